#include <catch2/catch.hpp>

#include "rules/program_identity.hpp"

using namespace netlof;

TEST_CASE("program identity: services sharing an interpreter are programs of their own", "[program_identity]") {
    CHECK(runs_scripts("/usr/bin/python3.11"));
    CHECK(runs_scripts("/usr/bin/perl5.36.0"));
    CHECK(runs_scripts("/usr/bin/bash"));
    CHECK(runs_scripts("/usr/bin/python3.11 (deleted)"));
    CHECK_FALSE(runs_scripts("/usr/sbin/nginx"));
    CHECK_FALSE(runs_scripts("/usr/lib/jvm/java-17-openjdk-amd64/bin/java"));  // a JVM names its threads: not a script's name
    CHECK(program_key("gunicorn", "/usr/bin/python3.11", "app.service") == "/usr/bin/python3.11\tgunicorn\t@app.service");
    CHECK(program_key("certbot", "/usr/bin/python3.11", "certbot.service") != program_key("gunicorn", "/usr/bin/python3.11", "app.service"));
    CHECK(program_key("nginx", "/usr/sbin/nginx", "nginx.service") == "/usr/sbin/nginx\t@nginx.service");
    CHECK(program_key("worker-3", "/usr/sbin/nginx", "nginx.service") == program_key("nginx", "/usr/sbin/nginx", "nginx.service"));
    CHECK(program_key("curl", "", "") == "name:curl");
    CHECK(program_key("nginx", "/usr/sbin/nginx") == "/usr/sbin/nginx");  // no unit: the executable alone, as before
}

TEST_CASE("program identity: a unit's numbers and ids are its kind, not a new program each login", "[program_identity]") {
    std::string k;
    unit_kind_into("session-4.scope", k);
    CHECK(k == "session-N.scope");
    k.clear();
    unit_kind_into("docker-3f2a9c1b7d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4.scope", k);
    CHECK(k == "docker-ID.scope");
    k.clear();
    unit_kind_into("app.service", k);
    CHECK(k == "app.service");
    CHECK(program_key("ssh", "/usr/bin/ssh", "session-4.scope") == program_key("ssh", "/usr/bin/ssh", "session-17.scope"));
    CHECK(program_key_exe(program_key("gunicorn", "/usr/bin/python3.11", "app.service")) == "/usr/bin/python3.11");
    CHECK(program_key_exe("name:curl").empty());
    CHECK(program_key_text(program_key("gunicorn", "/usr/bin/python3.11", "app.service")) ==
          "/usr/bin/python3.11 (gunicorn) in app.service");
}
