// RAII helper that runs the mock VTJ server (test/mock/vtj_mock.py) for a
// GoogleTest suite and talks to its control API (/_mock/...).
//
//   static std::unique_ptr<vtj::test::MockServer> mock;
//   static void SetUpTestSuite() { mock = std::make_unique<vtj::test::MockServer>(); }
//   static void TearDownTestSuite() { mock.reset(); }
//   ... mock->base_url(), mock->faults(R"([{"path":"*","kind":"status","status":503,"times":1}])")
//
// Needs the compile definitions VTJ_SOURCE_DIR and VTJ_PYTHON (CMake sets
// them for every test/unit/test_*.cpp). The server's output goes to a log file
// in a private temporary directory, removed with the MockServer.
#pragma once

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace vtj::test {

// A private temporary directory, removed with its contents on destruction.
class TempDir {
public:
    explicit TempDir(const char* tag = "vtj") {
        std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(tag) + ".XXXXXX")).string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Runs a program to completion; returns its exit status (-1 if it did not exit).
inline int run_program(const std::vector<std::string>& args, const std::string& log_path) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Certificates made by test/mock/make_certs.sh, once per test process.
class Certs {
public:
    static const Certs& get() {
        static Certs certs;
        return certs;
    }
    std::string ca() const { return dir_.file("ca.crt"); }
    std::string other_ca() const { return dir_.file("other-ca.crt"); }
    std::string server_cert() const { return dir_.file("server.crt"); }
    std::string server_key() const { return dir_.file("server.key"); }
    std::string client_cert() const { return dir_.file("client.crt"); }
    std::string client_key() const { return dir_.file("client.key"); }
    std::string other_client_cert() const { return dir_.file("other-client.crt"); }
    std::string other_client_key() const { return dir_.file("other-client.key"); }
    const std::string& dir() const { return dir_.path(); }

private:
    Certs() : dir_("vtj-certs") {
        const std::string script = std::string(VTJ_SOURCE_DIR) + "/test/mock/make_certs.sh";
        const int rc = run_program({"/bin/sh", script, dir_.path()}, dir_.file("make_certs.log"));
        if (rc != 0)
            throw std::runtime_error("make_certs.sh failed (" + std::to_string(rc) +
                                     "): " + read_file(dir_.file("make_certs.log")));
    }
    TempDir dir_;
};

struct MockOptions {
    bool tls = false;         // serve HTTPS with Certs' server certificate
    bool client_auth = false; // require a client certificate signed by Certs' CA
    std::string username;     // empty: the mock's default (vtjuser)
    std::string password;     // empty: the mock's default (vtjpass)
    std::string xroad_client; // empty: the mock's default
    int population = -1;      // -1: the mock's default
    std::vector<std::string> extra_args;
};

struct HttpResult {
    long status = 0;
    std::string body;
};

class MockServer {
public:
    static std::string script() { return std::string(VTJ_SOURCE_DIR) + "/test/mock/vtj_mock.py"; }
    static bool available() { return access(script().c_str(), R_OK) == 0; }

    explicit MockServer(MockOptions opts = {}) : opts_(std::move(opts)), dir_("vtj-mock") {
        std::vector<std::string> args = {VTJ_PYTHON, script(), "--port", "0", "--port-file",
                                         dir_.file("port")};
        if (opts_.tls) {
            const Certs& c = Certs::get();
            args.insert(args.end(), {"--tls-cert", c.server_cert(), "--tls-key", c.server_key()});
            if (opts_.client_auth) args.insert(args.end(), {"--client-ca", c.ca()});
        }
        if (!opts_.username.empty()) args.insert(args.end(), {"--username", opts_.username});
        if (!opts_.password.empty()) args.insert(args.end(), {"--password", opts_.password});
        if (!opts_.xroad_client.empty()) args.insert(args.end(), {"--xroad-client", opts_.xroad_client});
        if (opts_.population >= 0) args.insert(args.end(), {"--population", std::to_string(opts_.population)});
        args.insert(args.end(), opts_.extra_args.begin(), opts_.extra_args.end());

        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, log_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        const int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) throw std::runtime_error("could not start the mock server: " + std::string(strerror(rc)));

        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (port_ == 0) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error("the mock server exited during start-up: " + log());
            }
            const std::string text = read_file(dir_.file("port"));
            if (!text.empty() && text.back() == '\n') port_ = std::atoi(text.c_str());
            if (port_ == 0 && !text.empty() && text.find_first_not_of("0123456789\r\n ") == std::string::npos)
                port_ = std::atoi(text.c_str());  // tolerate a port file without newline
            if (port_ != 0) break;
            if (std::chrono::steady_clock::now() > deadline) {
                stop();
                throw std::runtime_error("the mock server did not write its port file: " + log());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        // Wait until the control API answers.
        for (;;) {
            HttpResult r;
            try {
                r = call("GET", "/_mock/health", "");
            } catch (const std::exception&) {
            }
            if (r.status == 200) break;
            if (std::chrono::steady_clock::now() > deadline) {
                stop();
                throw std::runtime_error("the mock server does not answer /_mock/health: " + log());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    ~MockServer() { stop(); }
    MockServer(const MockServer&) = delete;
    MockServer& operator=(const MockServer&) = delete;

    int port() const { return port_; }
    std::string origin() const {
        return std::string(opts_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
    }
    std::string base_url() const { return origin() + "/api/v1"; }
    std::string log_path() const { return dir_.file("mock.log"); }
    std::string log() const { return read_file(log_path()); }
    const MockOptions& options() const { return opts_; }

    // Control API. Each throws std::runtime_error on a transport error or a
    // status other than 2xx.
    void reset() { ok(call("POST", "/_mock/reset", "{}"), "reset"); }
    // `rules` is the JSON array of fault rules.
    void faults(const std::string& rules) {
        ok(call("POST", "/_mock/faults", "{\"rules\":" + rules + "}"), "faults");
    }
    std::string requests() { return ok(call("GET", "/_mock/requests", ""), "requests").body; }
    void clear_requests() { ok(call("DELETE", "/_mock/requests", ""), "clear requests"); }

    // Any request to the mock, with the control client's TLS settings and no
    // VTJ credentials.
    HttpResult call(const std::string& method, const std::string& path, const std::string& body,
                    const std::vector<std::string>& headers = {}) const {
        std::unique_ptr<CURL, void (*)(CURL*)> h(curl_easy_init(), curl_easy_cleanup);
        if (!h) throw std::runtime_error("curl_easy_init failed");
        HttpResult r;
        const std::string url = origin() + path;
        curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
        curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h.get(), CURLOPT_PROXY, "");
        curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(h.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
        if (method == "POST" || !body.empty()) {
            curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
            curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, body.c_str());
        }
        if (opts_.tls) {
            const Certs& c = Certs::get();
            curl_easy_setopt(h.get(), CURLOPT_CAINFO, c.ca().c_str());
            if (opts_.client_auth) {
                curl_easy_setopt(h.get(), CURLOPT_SSLCERT, c.client_cert().c_str());
                curl_easy_setopt(h.get(), CURLOPT_SSLKEY, c.client_key().c_str());
            }
        }
        struct curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/json");
        for (const auto& hd : headers) list = curl_slist_append(list, hd.c_str());
        std::unique_ptr<curl_slist, void (*)(curl_slist*)> guard(list, curl_slist_free_all);
        curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, +[](char* p, size_t s, size_t n, void* ud) -> size_t {
            static_cast<std::string*>(ud)->append(p, s * n);
            return s * n;
        });
        curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &r.body);
        const CURLcode rc = curl_easy_perform(h.get());
        if (rc != CURLE_OK)
            throw std::runtime_error(std::string("mock control call failed: ") + curl_easy_strerror(rc));
        curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &r.status);
        return r;
    }

    // N valid generated test hetus from `vtj_mock.py --print-hetus N`.
    static std::vector<std::string> print_hetus(int n) {
        TempDir d("vtj-hetus");
        const int rc = run_program({VTJ_PYTHON, script(), "--print-hetus", std::to_string(n)}, d.file("out"));
        if (rc != 0) throw std::runtime_error("--print-hetus failed: " + read_file(d.file("out")));
        std::vector<std::string> out;
        std::istringstream in(read_file(d.file("out")));
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) out.push_back(line);
        return out;
    }

private:
    HttpResult ok(HttpResult r, const char* what) {
        if (r.status < 200 || r.status >= 300)
            throw std::runtime_error(std::string("mock control call '") + what + "' answered HTTP " +
                                     std::to_string(r.status) + ": " + r.body);
        return r;
    }

    void stop() {
        if (pid_ <= 0) return;
        kill(pid_, SIGTERM);
        int status = 0;
        for (int i = 0; i < 300; ++i) {  // up to 3 s, then SIGKILL
            const pid_t w = waitpid(pid_, &status, WNOHANG);
            if (w == pid_ || (w < 0 && errno != EINTR)) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        kill(pid_, SIGKILL);
        while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }

    MockOptions opts_;
    TempDir dir_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace vtj::test
