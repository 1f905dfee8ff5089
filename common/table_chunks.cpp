#include "common/table_chunks.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_io.hpp"

namespace netlof {

namespace {

// The end of the last whole record in s (just after its newline), 0 when
// there is none. A CSV newline inside quotes does not end a record; the text
// starts at a record's start, outside quotes.
std::size_t last_record_end(std::string_view s, bool csv) {
    if (!csv || s.find('"') == std::string_view::npos) {
        const std::size_t nl = s.rfind('\n');
        return nl == std::string_view::npos ? 0 : nl + 1;
    }
    bool quoted = false;
    std::size_t end = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '"') quoted = !quoted;
        else if (s[i] == '\n' && !quoted) end = i + 1;
    }
    return end;
}

// The end of the first CSV record in s (just after its newline), or s's size.
std::size_t first_record_end(std::string_view s) {
    bool quoted = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '"') quoted = !quoted;
        else if (s[i] == '\n' && !quoted) return i + 1;
    }
    return s.size();
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

}  // namespace

TableChunks::TableChunks(std::string path, std::size_t chunk_bytes)
    : path_(std::move(path)), chunk_bytes_(std::max<std::size_t>(chunk_bytes, 1)) {
    fd_ = path_ == "-" ? STDIN_FILENO : ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail_file(path_, "cannot open", errno);
    struct stat st {};
    if (::fstat(fd_, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            if (fd_ != STDIN_FILENO) ::close(fd_);
            fd_ = -1;
            fail_file(path_, "cannot read", EISDIR);
        }
        if (S_ISREG(st.st_mode)) file_size_ = static_cast<std::uint64_t>(st.st_size);
    }
}

TableChunks::~TableChunks() {
    if (fd_ >= 0 && fd_ != STDIN_FILENO) ::close(fd_);
}

bool TableChunks::fill() {
    // At most 16 MiB a read: a part as large as the whole input (standard
    // input, read once) grows as it comes. A regular file's reads are sized
    // to what is left of it and its end is found by a read into a small
    // buffer, so a part is not grown (copied) past the file's size.
    std::size_t block = std::min<std::size_t>(chunk_bytes_, std::size_t{16} << 20);
    char probe[4096];
    const bool at_size = file_size_ > 0 && bytes_read_ >= file_size_;
    if (file_size_ > 0 && !at_size) block = std::min<std::size_t>(block, file_size_ - bytes_read_);
    const std::size_t have = pending_.size();
    if (!at_size) pending_.resize(have + block);
    for (;;) {
        const ssize_t n = at_size ? ::read(fd_, probe, sizeof probe) : ::read(fd_, pending_.data() + have, block);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail_file(path_, "cannot read", errno);
        if (at_size) pending_.append(probe, static_cast<std::size_t>(n));
        else pending_.resize(have + static_cast<std::size_t>(n));
        bytes_read_ += static_cast<std::uint64_t>(n);
        if (n == 0) eof_ = true;
        return n > 0;
    }
}

std::optional<TableChunks::Cut> TableChunks::take() {
    for (;;) {
        while (!eof_ && pending_.size() < chunk_bytes_) fill();
        if (!started_) {
            const std::size_t first = pending_.find_first_not_of(" \t\r\n");
            if (first == std::string::npos && !eof_) {
                fill();
                continue;
            }
            started_ = true;
            jsonl_ = first != std::string::npos && pending_[first] == '{';
        }
        std::size_t cut = eof_ ? pending_.size() : last_record_end(pending_, !jsonl_);
        while (cut == 0 && !eof_) {  // a record longer than a part: read on until it ends
            fill();
            cut = eof_ ? pending_.size() : last_record_end(pending_, !jsonl_);
        }
        if (!jsonl_ && !handed_out_ && !eof_ && blank(std::string_view(pending_).substr(0, cut))) {
            fill();  // the first CSV part must hold the header
            continue;
        }
        if (cut == 0) {
            // Nothing at all (or only blank lines): refused as the whole file would be.
            if (!handed_out_) {
                handed_out_ = true;
                return Cut{std::string(pending_), 0, Cut::Whole};
            }
            return std::nullopt;
        }
        // The part takes the buffer; what follows its last record (less
        // than a record) is copied back.
        std::string text, rest = pending_.substr(cut);
        pending_.resize(cut);
        text.swap(pending_);
        pending_.swap(rest);
        const std::size_t first_line = lines_done_ + 1;
        lines_done_ += static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
        if (jsonl_) {
            if (blank(text)) continue;
            handed_out_ = true;
            return Cut{std::move(text), first_line, Cut::Jsonl};
        }
        if (!handed_out_) {
            // The first part starts with the header: it reads as a file does,
            // and the header is kept for the parts after it.
            std::size_t start = 0;
            while (start < text.size() && (text[start] == '\n' || text[start] == '\r')) ++start;
            const std::size_t end = start + first_record_end(std::string_view(text).substr(start));
            header_ = text.substr(start, end - start);
            handed_out_ = true;
            return Cut{std::move(text), 0, Cut::CsvFirst};
        }
        if (blank(text)) continue;
        return Cut{header_ + text, first_line, Cut::CsvLater};
    }
}

TextTable TableChunks::parse(Cut cut) const {
    switch (cut.kind) {
        case Cut::Whole: return TextTable::parse_records(std::move(cut.text), path_);
        case Cut::Jsonl: return TextTable::parse_jsonl(std::move(cut.text), path_, cut.first_line);
        case Cut::CsvFirst: return TextTable::parse(std::move(cut.text), path_);
        case Cut::CsvLater: break;
    }
    return TextTable::parse(std::move(cut.text), path_, cut.first_line);
}

std::optional<TextTable> TableChunks::next() {
    if (ahead_.valid()) return ahead_.get();
    std::optional<Cut> cut = take();
    if (!cut) return std::nullopt;
    // Parsing is most of reading: the part after this one, when there is
    // one, is parsed on the other core meanwhile and handed out next.
    if (cut->kind != Cut::Whole)
        if (std::optional<Cut> after = take())
            ahead_ = std::async(std::launch::async, [this, c = std::move(*after)]() mutable -> std::optional<TextTable> {
                return parse(std::move(c));
            });
    return parse(std::move(*cut));
}

}  // namespace netlof
