// Little-endian bytes for netlof's binary files: a writer, and a reader
// that checks every length before it reads or allocates and names the field
// at fault (file, field, byte offset) when the bytes are wrong.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/diagnostic.hpp"

namespace netlof {

class ByteWriter {
public:
    template <typename T>
    void put(T v) {
        static_assert(std::is_arithmetic_v<T>);
        char b[sizeof(T)];
        std::memcpy(b, &v, sizeof(T));  // x86-64 and arm64 are little-endian
        out.append(b, sizeof(T));
    }
    void str(std::string_view s) {
        put<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
        out.append(s);
    }
    template <typename T>
    void array(const T* p, std::size_t n) {
        out.append(reinterpret_cast<const char*>(p), n * sizeof(T));
    }
    std::string out;
};

class ByteReader {
public:
    // base: where data starts in the file, for the offsets in messages;
    // what: what the file holds ("corrupted model: ...").
    ByteReader(std::string_view data, std::size_t base, std::string file, std::string what = "model")
        : data_(data), base_(base), file_(std::move(file)), what_(std::move(what)) {}

    [[noreturn]] void fail(std::string_view field, const std::string& message) const {
        Diagnostic d;
        d.file = file_;
        d.field = std::string(field);
        d.message = "corrupted " + what_ + ": " + message + " (at byte " + std::to_string(base_ + pos_) + ")";
        throw InputError(std::move(d));
    }
    void need(std::size_t bytes, std::string_view field) const {
        if (bytes > data_.size() - pos_)
            fail(field, "needs " + std::to_string(bytes) + " more bytes, only " + std::to_string(data_.size() - pos_) +
                            " left");
    }
    template <typename T>
    T get(std::string_view field) {
        need(sizeof(T), field);
        T v;
        std::memcpy(&v, data_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    std::string str(std::string_view field) {
        const auto len = get<std::uint32_t>(field);
        need(len, field);
        std::string s(data_.substr(pos_, len));
        pos_ += len;
        return s;
    }
    // Reads count elements; the size is checked before anything is allocated,
    // so a corrupted count cannot ask for gigabytes.
    template <typename T>
    void array(T* out, std::size_t count, std::string_view field) {
        if (count > (data_.size() - pos_) / sizeof(T)) need(data_.size() + 1, field);
        if (count == 0) return;  // out may be an empty vector's null data(): memcpy must not see it
        std::memcpy(out, data_.data() + pos_, count * sizeof(T));
        pos_ += count * sizeof(T);
    }
    std::size_t count(std::string_view field, std::size_t max) {
        const auto n = get<std::uint64_t>(field);
        if (n > max) fail(field, "count " + std::to_string(n) + " is impossible here");
        return static_cast<std::size_t>(n);
    }
    bool done() const { return pos_ == data_.size(); }
    const std::string& file() const { return file_; }

private:
    std::string_view data_;
    std::size_t base_;
    std::size_t pos_ = 0;
    std::string file_;
    std::string what_;
};

}  // namespace netlof
