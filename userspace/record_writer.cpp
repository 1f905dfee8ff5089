#include "userspace/record_writer.hpp"

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "model/csv_table.hpp"
#include "model/diagnostic.hpp"

namespace netlof {

std::string record_to_json(const ConnectionRecord& r) {
    nlohmann::ordered_json j;
    j["ts_start"] = r.ts_start;
    j["ts_end"] = r.ts_end;
    j["duration"] = r.duration;
    j["pid"] = r.pid;
    j["ppid"] = r.ppid;
    j["uid"] = r.uid;
    j["process_name"] = r.process_name;
    j["exe"] = r.exe;
    j["cgroup_id"] = r.cgroup_id;
    j["family"] = r.family;
    j["proto"] = r.proto;
    j["src_ip"] = r.src_ip;
    j["src_port"] = r.src_port;
    j["dst_ip"] = r.dst_ip;
    j["dst_port"] = r.dst_port;
    j["bytes_sent"] = r.bytes_sent;
    j["bytes_received"] = r.bytes_received;
    j["outcome"] = r.outcome;
    if (r.error != 0) j["error"] = std::strerror(r.error);
    // Comm and paths are bytes, not always UTF-8: replace what is invalid.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string record_csv_header() {
    return "pid,process_name,src_ip,src_port,dst_ip,dst_port,duration,bytes_sent,bytes_received,timestamp,"
           "ppid,uid,exe,cgroup_id,family,proto,outcome,ts_start,ts_end\n";
}

std::string record_to_csv(const ConnectionRecord& r) {
    std::string s = std::to_string(r.pid) + ',';
    append_csv_field(s, r.process_name);
    s += ',' + r.src_ip + ',' + std::to_string(r.src_port) + ',' + r.dst_ip + ',' + std::to_string(r.dst_port) + ',';
    append_double(s, r.duration);
    s += ',' + std::to_string(r.bytes_sent) + ',' + std::to_string(r.bytes_received) + ',' + format_timestamp(r.ts_start);
    s += ',' + std::to_string(r.ppid) + ',' + std::to_string(r.uid) + ',';
    append_csv_field(s, r.exe);
    s += ',' + std::to_string(r.cgroup_id) + ',' + std::to_string(r.family) + ',' + r.proto + ',' + r.outcome + ',';
    append_double(s, r.ts_start);
    s += ',';
    append_double(s, r.ts_end);
    s += '\n';
    return s;
}

namespace {

class FileRecordWriter : public RecordWriter {
public:
    FileRecordWriter(std::FILE* f, bool owned, RecordFormat format) : f_(f), owned_(owned), format_(format) {
        if (format_ == RecordFormat::Csv) std::fputs(record_csv_header().c_str(), f_);
    }
    ~FileRecordWriter() override {
        if (owned_) std::fclose(f_);
        else std::fflush(f_);
    }
    void write(const ConnectionRecord& r) override {
        const std::string line = format_ == RecordFormat::Csv ? record_to_csv(r) : record_to_json(r) + '\n';
        std::fwrite(line.data(), 1, line.size(), f_);
    }
    bool flush() override { return std::fflush(f_) == 0 && !std::ferror(f_); }

private:
    std::FILE* f_;
    bool owned_;
    RecordFormat format_;
};

}  // namespace

std::unique_ptr<RecordWriter> open_record_writer(const std::string& path, RecordFormat format) {
    if (path == "-") return std::make_unique<FileRecordWriter>(stdout, false, format);
    std::FILE* f = std::fopen(path.c_str(), "we");
    if (f == nullptr) {
        Diagnostic d;
        d.file = path;
        d.message = std::string("cannot open for writing: ") + std::strerror(errno);
        throw InputError(std::move(d));
    }
    return std::make_unique<FileRecordWriter>(f, true, format);
}

}  // namespace netlof
