#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "tests/test_support.hpp"
#include "common/file_io.hpp"

using namespace netlof;

TEST_CASE("file_io: output replaces a regular file whole, and writes a device or a pipe in place", "[file_io]") {
    const std::string dir = test::temp_dir("file-io");
    write_output_file(dir + "/out", "first\n");
    write_output_file(dir + "/out", "second\n");
    CHECK(test::read_text(dir + "/out") == "second\n");
    // As root, a rename over /dev/null would replace the device for everyone.
    write_output_file("/dev/null", "gone\n");
    struct stat st {};
    REQUIRE(::stat("/dev/null", &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    // A FIFO gets the bytes (a reader is waiting on the other end).
    const std::string fifo = dir + "/fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::string got;
    std::thread reader([&] {
        const int fd = ::open(fifo.c_str(), O_RDONLY);
        char buf[64];
        for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
        ::close(fd);
    });
    write_output_file(fifo, "through the pipe\n");
    reader.join();
    CHECK(got == "through the pipe\n");
    REQUIRE(::stat(fifo.c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
}
