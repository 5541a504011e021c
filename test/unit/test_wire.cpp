// Unit tests of the wire client (src/wire) against the mock VTJ server.
// Timing assertions: lower bounds strict, upper bounds loose (busy 2-core CI).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "mock_server.hpp"
#include "wire/client.hpp"

using vtj::test::MockServer;
using vtj::wire::Body;
using vtj::wire::Client;
using vtj::wire::ClientConfig;
using vtj::wire::ErrorKind;
using vtj::wire::WireError;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Test hetus only: individual numbers 900-999, valid check characters.
std::string test_hetu(int i) {
    const int individual = 900 + i % 100;
    const int day = 1 + (i / 100) % 28;
    const int month = 1 + (i / 2800) % 12;
    const int year = 50 + (i / 33600) % 40;
    char digits[16];
    std::snprintf(digits, sizeof digits, "%02d%02d%02d%03d", day, month, year, individual);
    const char* table = "0123456789ABCDEFHJKLMNPRSTUVWXY";
    const char check = table[std::stoul(digits) % 31];
    std::string h(digits, 6);
    h += '-';
    h.append(digits + 6, 3);
    h += check;
    return h;
}

std::vector<std::string> test_hetus(int n, int first = 0) {
    std::vector<std::string> v;
    for (int i = 0; i < n; ++i) v.push_back(test_hetu(first + i));
    return v;
}

const char* const kUser = "vtjuser";
const char* const kPassword = "vtjpass";
const char* const kXroad = "FI/MUN/0123456-7/vtj-test";

std::string basic_value(const std::string& user, const std::string& pass) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const std::string in = user + ":" + pass;
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
        out += {tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], tbl[v & 63]};
    }
    if (i + 1 == in.size()) {
        unsigned v = (unsigned char)in[i] << 16;
        out += {tbl[v >> 18], tbl[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
        out += {tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], '='};
    }
    return "Basic " + out;
}

// One request as the mock recorded it.
struct Recorded {
    std::string method;
    std::string path;
    std::map<std::string, std::string> headers;
    int64_t hetu_count = -1;
    std::vector<std::string> body_keys;
    std::string raw;  // the record as JSON, for failure messages
};

std::vector<Recorded> parse_requests(const std::string& json) {
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.parse(json);
    simdjson::dom::array arr;
    if (root.is_array())
        arr = root.get_array();
    else
        arr = root["requests"].get_array();
    std::vector<Recorded> out;
    for (simdjson::dom::element e : arr) {
        Recorded r;
        r.raw = simdjson::minify(e);
        std::string_view sv;
        if (!e["method"].get_string().get(sv)) r.method = std::string(sv);
        if (!e["path"].get_string().get(sv)) r.path = std::string(sv);
        simdjson::dom::object hdrs;
        if (!e["headers"].get_object().get(hdrs))
            for (auto field : hdrs) {
                std::string_view v;
                if (!field.value.get_string().get(v)) r.headers[std::string(field.key)] = std::string(v);
            }
        int64_t n;
        if (!e["hetu_count"].get_int64().get(n)) r.hetu_count = n;
        simdjson::dom::array keys;
        if (!e["body_keys"].get_array().get(keys))
            for (auto k : keys) {
                std::string_view v;
                if (!k.get_string().get(v)) r.body_keys.emplace_back(v);
            }
        out.push_back(std::move(r));
    }
    return out;
}

// Runs `f`, expects a WireError, returns it.
template <class F>
WireError expect_wire_error(F&& f) {
    try {
        f();
    } catch (const WireError& e) {
        return e;
    }
    ADD_FAILURE() << "no WireError was thrown";
    return WireError(ErrorKind::Config, "none", "none");
}

std::string fault(const std::string& path, const std::string& kind, int times, const std::string& extra = "") {
    std::string s = "{\"path\":\"" + path + "\",\"kind\":\"" + kind + "\",\"times\":" + std::to_string(times);
    if (!extra.empty()) s += "," + extra;
    return s + "}";
}

std::string rules(std::initializer_list<std::string> items) {
    std::string s = "[";
    for (const auto& i : items) {
        if (s.size() > 1) s += ",";
        s += i;
    }
    return s + "]";
}

}  // namespace

// ---------------------------------------------------------------------------
// Pure parts (no server)

TEST(WireJson, BaseRequestShape) {
    EXPECT_EQ(vtj::wire::base_request_json({"010150-900A", "020250-902B"}),
              R"({"hetulista":["010150-900A","020250-902B"]})");
}

TEST(WireJson, ChangesRequestShape) {
    EXPECT_EQ(vtj::wire::changes_request_json(5446623400, {"010150-900A"}),
              R"({"viimeisinKirjausavain":5446623400,"hetulista":["010150-900A"]})");
    EXPECT_EQ(vtj::wire::changes_request_json(0, {}), R"({"viimeisinKirjausavain":0,"hetulista":[]})");
}

TEST(WireJson, Escaping) {
    const std::string odd = std::string("a\"b\\c/\n\t\x01") + "\x7f" + "\xc3\xa4";
    const std::string json = vtj::wire::base_request_json({odd});
    EXPECT_EQ(json, "{\"hetulista\":[\"a\\\"b\\\\c/\\n\\t\\u0001\\u007f\xc3\xa4\"]}");
    simdjson::dom::parser p;
    simdjson::dom::element doc = p.parse(json);
    std::string_view back = doc["hetulista"].at(0).get_string();
    EXPECT_EQ(back, odd);
}

TEST(WireJson, InvalidUtf8Rejected) {
    try {
        vtj::wire::base_request_json({"010150-900A", "\xff\xfe"});
        FAIL() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("entry 2"), std::string::npos) << e.what();
    }
}

TEST(WireBody, PaddingAndAccessors) {
    Body empty;
    ASSERT_NE(empty.data(), nullptr);
    EXPECT_EQ(empty.size(), 0u);
    EXPECT_GE(empty.capacity(), vtj::wire::kBodyPadding);
    for (size_t i = 0; i < vtj::wire::kBodyPadding; ++i) EXPECT_EQ(empty.data()[i], 0);

    Body b = Body::copy_of(R"({"viimeisinKirjausavain": 42})");
    EXPECT_EQ(b.view(), R"({"viimeisinKirjausavain": 42})");
    EXPECT_GE(b.capacity(), b.size() + simdjson::SIMDJSON_PADDING);
    for (size_t i = 0; i < vtj::wire::kBodyPadding; ++i) EXPECT_EQ(b.data()[b.size() + i], 0);
    simdjson::padded_string_view view(b.data(), b.size(), b.capacity());
    simdjson::ondemand::parser parser;
    auto doc = parser.iterate(view);
    EXPECT_EQ(int64_t(doc["viimeisinKirjausavain"]), 42);

    Body moved = std::move(b);
    EXPECT_EQ(moved.size(), 29u);
    EXPECT_EQ(b.size(), 0u);  // NOLINT: moved-from is empty
    ASSERT_NE(b.data(), nullptr);
}

TEST(WireConfig, Validation) {
    ClientConfig good;
    good.base_url = "https://ss.example/r1/FI/GOV/0245437-2/VTJmutpa/VTJmutpa/api/v1";
    good.xroad_client = kXroad;
    good.username = kUser;
    good.password = "s3cret-Passw0rd";
    EXPECT_NO_THROW(good.validate());
    {
        ClientConfig c = good;
        c.base_url = "http://127.0.0.1:8080/api/v1/";
        EXPECT_NO_THROW(c.validate());
    }

    struct Case {
        const char* name;
        void (*mutate)(ClientConfig&);
    };
    const Case cases[] = {
        {"empty url", [](ClientConfig& c) { c.base_url = ""; }},
        {"ftp url", [](ClientConfig& c) { c.base_url = "ftp://ss.example/api/v1"; }},
        {"file url", [](ClientConfig& c) { c.base_url = "file:///etc/passwd"; }},
        {"no scheme", [](ClientConfig& c) { c.base_url = "ss.example/api/v1"; }},
        {"userinfo", [](ClientConfig& c) { c.base_url = "https://u:s3cret-Passw0rd@ss.example/api/v1"; }},
        {"query", [](ClientConfig& c) { c.base_url = "https://ss.example/api/v1?x=1"; }},
        {"fragment", [](ClientConfig& c) { c.base_url = "https://ss.example/api/v1#x"; }},
        {"no host", [](ClientConfig& c) { c.base_url = "https:///api/v1"; }},
        {"space", [](ClientConfig& c) { c.base_url = "https://ss.example/api v1"; }},
        {"empty xroad", [](ClientConfig& c) { c.xroad_client = ""; }},
        {"crlf xroad", [](ClientConfig& c) { c.xroad_client = "FI/MUN/1\r\nX-Evil: 1"; }},
        {"empty user", [](ClientConfig& c) { c.username = ""; }},
        {"colon user", [](ClientConfig& c) { c.username = "a:b"; }},
        {"crlf password", [](ClientConfig& c) { c.password = "s3cret-Passw0rd\r\n"; }},
        {"key without cert", [](ClientConfig& c) { c.tls_key_file = "/tmp/k.pem"; }},
        {"tls over http", [](ClientConfig& c) {
             c.base_url = "http://ss.example/api/v1";
             c.tls_ca_file = "/tmp/ca.pem";
         }},
        {"parallel 0", [](ClientConfig& c) { c.parallel = 0; }},
        {"parallel 9", [](ClientConfig& c) { c.parallel = 9; }},
        {"retries -1", [](ClientConfig& c) { c.retries = -1; }},
        {"timeout 0", [](ClientConfig& c) { c.request_timeout_ms = 0; }},
        {"connect timeout 0", [](ClientConfig& c) { c.connect_timeout_ms = 0; }},
        {"backoff max < initial", [](ClientConfig& c) { c.backoff_max_ms = c.backoff_initial_ms - 1; }},
        {"max bytes 0", [](ClientConfig& c) { c.max_response_bytes = 0; }},
        {"empty version", [](ClientConfig& c) { c.version = ""; }},
    };
    for (const auto& tc : cases) {
        ClientConfig c = good;
        tc.mutate(c);
        WireError e = expect_wire_error([&] { c.validate(); });
        EXPECT_EQ(e.kind(), ErrorKind::Config) << tc.name;
        EXPECT_STREQ(e.phase(), "config") << tc.name;
        EXPECT_EQ(e.attempts(), 0) << tc.name;
        EXPECT_EQ(std::string(e.what()).find("s3cret-Passw0rd"), std::string::npos) << tc.name << ": " << e.what();
        // The constructor validates too.
        WireError e2 = expect_wire_error([&] { Client client(c); });
        EXPECT_EQ(e2.kind(), ErrorKind::Config) << tc.name;
    }
}

TEST(WireConfig, UnreadableTlsFileIsConfigError) {
    ClientConfig c;
    c.base_url = "https://127.0.0.1:9/api/v1";
    c.xroad_client = kXroad;
    c.username = kUser;
    c.tls_ca_file = "/nonexistent/ca.crt";
    WireError e = expect_wire_error([&] { Client client(c); });
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("tls_ca_file"), std::string::npos) << e.what();
}

TEST(WireClient, MovableNotCopyable) {
    static_assert(!std::is_copy_constructible_v<Client>);
    static_assert(!std::is_copy_assignable_v<Client>);
    static_assert(std::is_nothrow_move_constructible_v<Client>);
    static_assert(std::is_nothrow_move_assignable_v<Client>);
    ClientConfig c;
    c.base_url = "http://127.0.0.1:9/api/v1";
    c.xroad_client = kXroad;
    c.username = kUser;
    Client a(c);
    Client b(std::move(a));
    Client d(c);
    d = std::move(b);
    EXPECT_EQ(d.config().base_url, c.base_url);
}

TEST(WireClient, ArgumentsCheckedBeforeAnyRequest) {
    ClientConfig c;
    c.base_url = "http://127.0.0.1:9/api/v1";  // nothing listens there
    c.xroad_client = kXroad;
    c.username = kUser;
    Client client(c);
    EXPECT_THROW(client.start_key("2024-5-01"), std::invalid_argument);
    EXPECT_THROW(client.start_key("2024-13-01"), std::invalid_argument);
    EXPECT_THROW(client.start_key("../../x/y"), std::invalid_argument);
    EXPECT_THROW(client.base({}), std::invalid_argument);
    EXPECT_THROW(client.base(test_hetus(1001)), std::invalid_argument);
    std::vector<std::vector<std::string>> batches = {test_hetus(10), test_hetus(1001), test_hetus(5)};
    int calls = 0;
    EXPECT_THROW(client.base_parallel(batches, [&](Body&&) { ++calls; }), std::invalid_argument);
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(client.stats().requests, 0u);
}

TEST(WireClient, ConnectionRefusedIsRetriedConnectionError) {
    ClientConfig c;
    c.base_url = "http://127.0.0.1:9/api/v1";  // discard port: nothing listens
    c.xroad_client = kXroad;
    c.username = kUser;
    c.password = "s3cret-Passw0rd";
    c.retries = 2;
    c.backoff_initial_ms = 10;
    c.backoff_max_ms = 20;
    Client client(c);
    WireError e = expect_wire_error([&] { client.base({test_hetu(1)}); });
    EXPECT_EQ(e.kind(), ErrorKind::Connection) << e.what();
    EXPECT_EQ(e.attempts(), 3);
    EXPECT_EQ(e.curl_code(), 7);  // CURLE_COULDNT_CONNECT
    EXPECT_STREQ(e.phase(), "perustiedot");
    const std::string msg = e.what();
    EXPECT_NE(msg.find("perustiedot"), std::string::npos) << msg;
    EXPECT_NE(msg.find("3 attempts"), std::string::npos) << msg;
    EXPECT_EQ(msg.find(test_hetu(1)), std::string::npos) << msg;
    EXPECT_EQ(msg.find("s3cret-Passw0rd"), std::string::npos) << msg;
}

// ---------------------------------------------------------------------------
// Against the mock (plain HTTP)

class WireMock : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        try {
            mock_ = new MockServer();
        } catch (const std::exception& e) {
            start_error_ = e.what();
        }
    }
    static void TearDownTestSuite() {
        delete mock_;
        mock_ = nullptr;
    }
    void SetUp() override {
        ASSERT_NE(mock_, nullptr) << "mock server: " << start_error_;
        mock_->reset();
        mock_->clear_requests();
    }

    static ClientConfig config() {
        ClientConfig c;
        c.base_url = mock_->base_url();
        c.xroad_client = kXroad;
        c.username = kUser;
        c.password = kPassword;
        c.version = "9.8.7-test";
        c.connect_timeout_ms = 3000;
        c.request_timeout_ms = 10000;
        c.retries = 3;
        c.backoff_initial_ms = 20;
        c.backoff_max_ms = 100;
        return c;
    }

    static std::vector<Recorded> recorded() { return parse_requests(mock_->requests()); }
    static std::vector<Recorded> recorded_api() {
        std::vector<Recorded> out;
        for (auto& r : recorded())
            if (r.path.rfind("/api/v1/", 0) == 0) out.push_back(std::move(r));
        return out;
    }

    static MockServer* mock_;
    static std::string start_error_;
};
MockServer* WireMock::mock_ = nullptr;
std::string WireMock::start_error_;

TEST_F(WireMock, StartKey) {
    Client client(config());
    const int64_t key = client.start_key("2024-05-01");
    EXPECT_GT(key, 0);
    auto reqs = recorded_api();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].method, "GET");
    EXPECT_EQ(reqs[0].path, "/api/v1/kirjausavain/2024-05-01");
}

TEST_F(WireMock, HeadersOnEveryRequest) {
    Client client(config());
    const int64_t key = client.start_key("2024-05-01");
    client.changes(key, test_hetus(3));
    client.base(test_hetus(4));
    client.base_parallel({test_hetus(2), test_hetus(2, 10)}, [](Body&&) {});
    auto reqs = recorded_api();
    ASSERT_EQ(reqs.size(), 5u);
    const std::string auth = basic_value(kUser, kPassword);
    for (const auto& r : reqs) {
        SCOPED_TRACE(r.raw);
        EXPECT_EQ(r.headers.count("authorization"), 1u);
        EXPECT_EQ(r.headers.at("authorization"), auth);
        EXPECT_EQ(r.headers.at("x-road-client"), kXroad);
        EXPECT_EQ(r.headers.at("accept"), "application/json");
        EXPECT_EQ(r.headers.at("user-agent"), "pg_vtj/9.8.7-test");
        EXPECT_EQ(r.headers.at("accept-encoding"), "gzip");
        if (r.method == "POST") {
            EXPECT_EQ(r.headers.at("content-type"), "application/json");
            EXPECT_EQ(r.headers.count("expect"), 0u);
        } else {
            EXPECT_EQ(r.method, "GET");
        }
    }
}

TEST_F(WireMock, RequestBodies) {
    Client client(config());
    Body changes = client.changes(5446623400, test_hetus(3));
    Body base = client.base(test_hetus(7));
    EXPECT_EQ(changes.http_status, 200);
    EXPECT_EQ(base.http_status, 200);
    EXPECT_EQ(changes.attempts, 1);
    EXPECT_GT(base.size(), 0u);
    EXPECT_GE(base.capacity(), base.size() + vtj::wire::kBodyPadding);
    auto reqs = recorded_api();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[0].path, "/api/v1/muutokset");
    EXPECT_EQ(reqs[0].hetu_count, 3);
    std::set<std::string> k0(reqs[0].body_keys.begin(), reqs[0].body_keys.end());
    EXPECT_EQ(k0, (std::set<std::string>{"viimeisinKirjausavain", "hetulista"}));
    EXPECT_EQ(reqs[1].path, "/api/v1/perustiedot");
    EXPECT_EQ(reqs[1].hetu_count, 7);
    EXPECT_EQ(reqs[1].body_keys, std::vector<std::string>{"hetulista"});
}

TEST_F(WireMock, ResponseBodyIsJsonParsableInPlace) {
    Client client(config());
    Body b = client.changes(client.start_key("2024-05-01"), test_hetus(5));
    simdjson::padded_string_view view(b.data(), b.size(), b.capacity());
    simdjson::ondemand::parser parser;
    auto doc = parser.iterate(view);
    bool ajan_tasalla = false;
    EXPECT_EQ(doc["ajanTasalla"].get_bool().get(ajan_tasalla), simdjson::SUCCESS);
}

TEST_F(WireMock, BaseOf1000IsOneRequest) {
    Client client(config());
    Body b = client.base(test_hetus(1000));
    EXPECT_EQ(b.http_status, 200);
    auto reqs = recorded_api();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].hetu_count, 1000);
}

TEST_F(WireMock, ServerErrorRetriedThenSuccess) {
    mock_->faults(rules({fault("/api/v1/perustiedot", "status", 2, "\"status\":503")}));
    Client client(config());
    Body b = client.base(test_hetus(2));
    EXPECT_EQ(b.http_status, 200);
    EXPECT_EQ(b.attempts, 3);
    EXPECT_EQ(client.stats().requests, 3u);
    EXPECT_EQ(client.stats().retries, 2u);
    EXPECT_EQ(recorded_api().size(), 3u);
}

TEST_F(WireMock, ServerErrorExhaustsRetries) {
    mock_->faults(rules({fault("*", "status", -1, "\"status\":500")}));
    ClientConfig c = config();
    c.retries = 2;
    Client client(c);
    WireError e = expect_wire_error([&] { client.changes(17, test_hetus(2)); });
    EXPECT_EQ(e.kind(), ErrorKind::Http);
    EXPECT_EQ(e.http_status(), 500);
    EXPECT_EQ(e.attempts(), 3);
    EXPECT_STREQ(e.phase(), "muutokset");
    const std::string msg = e.what();
    EXPECT_NE(msg.find("HTTP 500"), std::string::npos) << msg;
    EXPECT_NE(msg.find("muutokset"), std::string::npos) << msg;
    EXPECT_NE(msg.find("3 attempts"), std::string::npos) << msg;
    EXPECT_EQ(recorded_api().size(), 3u);
}

TEST_F(WireMock, NoRetriesMeansOneAttempt) {
    mock_->faults(rules({fault("*", "status", -1, "\"status\":502")}));
    ClientConfig c = config();
    c.retries = 0;
    Client client(c);
    WireError e = expect_wire_error([&] { client.start_key("2024-05-01"); });
    EXPECT_EQ(e.kind(), ErrorKind::Http);
    EXPECT_EQ(e.http_status(), 502);
    EXPECT_EQ(e.attempts(), 1);
    EXPECT_STREQ(e.phase(), "kirjausavain");
}

TEST_F(WireMock, ClientErrorsAreNotRetried) {
    for (int status : {400, 401, 403, 404, 408, 409, 413, 422}) {
        SCOPED_TRACE(status);
        mock_->reset();
        mock_->clear_requests();
        mock_->faults(rules({fault("*", "status", -1, "\"status\":" + std::to_string(status))}));
        Client client(config());
        WireError e = expect_wire_error([&] { client.base(test_hetus(1)); });
        EXPECT_EQ(e.kind(), ErrorKind::Http);
        EXPECT_EQ(e.http_status(), status);
        EXPECT_EQ(e.attempts(), 1);
        EXPECT_EQ(recorded_api().size(), 1u);
    }
}

TEST_F(WireMock, WrongPasswordIs401NotRetried) {
    ClientConfig c = config();
    c.password = "wr0ng-Secret-Pw";
    Client client(c);
    WireError e = expect_wire_error([&] { client.base(test_hetus(3)); });
    EXPECT_EQ(e.kind(), ErrorKind::Http);
    EXPECT_EQ(e.http_status(), 401);
    EXPECT_EQ(e.attempts(), 1);
    const std::string msg = e.what();
    EXPECT_EQ(msg.find("wr0ng-Secret-Pw"), std::string::npos) << msg;
    EXPECT_EQ(msg.find(basic_value(kUser, "wr0ng-Secret-Pw").substr(6)), std::string::npos) << msg;
}

TEST_F(WireMock, WrongXroadClientIs400) {
    ClientConfig c = config();
    c.xroad_client = "FI/MUN/7654321-0/other";
    Client client(c);
    WireError e = expect_wire_error([&] { client.start_key("2024-05-01"); });
    EXPECT_EQ(e.kind(), ErrorKind::Http);
    EXPECT_EQ(e.http_status(), 400);
    EXPECT_EQ(e.attempts(), 1);
}

TEST_F(WireMock, TooManyRetriesAfterIsHttpError) {
    mock_->faults(rules({fault("*", "status", -1, "\"status\":429")}));
    ClientConfig c = config();
    c.retries = 1;
    Client client(c);
    WireError e = expect_wire_error([&] { client.base(test_hetus(1)); });
    EXPECT_EQ(e.kind(), ErrorKind::Http);
    EXPECT_EQ(e.http_status(), 429);
    EXPECT_EQ(e.attempts(), 2);
}

TEST_F(WireMock, RetryAfterSecondsHonoured) {
    mock_->faults(rules({fault("/api/v1/perustiedot", "status", 1, "\"status\":429,\"retry_after\":\"1\"")}));
    Client client(config());
    const auto t0 = Clock::now();
    Body b = client.base(test_hetus(2));
    const double elapsed = seconds_since(t0);
    EXPECT_EQ(b.attempts, 2);
    EXPECT_GE(elapsed, 1.0);
    EXPECT_LT(elapsed, 6.0);
    EXPECT_GE(b.elapsed_s, 1.0);
}

TEST_F(WireMock, RetryAfterHttpDateHonoured) {
    char date[64];
    const std::time_t when = std::time(nullptr) + 2;
    std::tm tm{};
    gmtime_r(&when, &tm);
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    mock_->faults(rules({fault("*", "status", 1, std::string("\"status\":503,\"retry_after\":\"") + date + "\"")}));
    Client client(config());
    const auto t0 = Clock::now();
    Body b = client.changes(1, test_hetus(1));
    const double elapsed = seconds_since(t0);
    EXPECT_EQ(b.attempts, 2);
    EXPECT_GE(elapsed, 0.9);  // the date has one-second resolution
    EXPECT_LT(elapsed, 8.0);
}

TEST_F(WireMock, RetryAfterTooLongFailsAtOnce) {
    mock_->faults(rules({fault("*", "status", -1, "\"status\":429,\"retry_after\":\"3600\"")}));
    ClientConfig c = config();
    c.max_retry_after_s = 60;
    Client client(c);
    const auto t0 = Clock::now();
    WireError e = expect_wire_error([&] { client.base(test_hetus(2)); });
    EXPECT_LT(seconds_since(t0), 2.0);
    EXPECT_EQ(e.kind(), ErrorKind::RetryAfterTooLong);
    EXPECT_EQ(e.http_status(), 429);
    EXPECT_EQ(e.attempts(), 1);
    const std::string msg = e.what();
    EXPECT_NE(msg.find("3600"), std::string::npos) << msg;
    EXPECT_NE(msg.find("max_retry_after"), std::string::npos) << msg;
}

TEST_F(WireMock, BackoffTiming) {
    mock_->faults(rules({fault("*", "status", 3, "\"status\":503")}));
    ClientConfig c = config();
    c.retries = 3;
    c.backoff_initial_ms = 100;
    c.backoff_max_ms = 400;
    Client client(c);
    const auto t0 = Clock::now();
    Body b = client.base(test_hetus(1));
    const double elapsed = seconds_since(t0);
    EXPECT_EQ(b.attempts, 4);
    // Waits of [50,100] + [100,200] + [200,400] ms.
    EXPECT_GE(elapsed, 0.35);
    EXPECT_LT(elapsed, 0.7 + 2.0);
}

TEST_F(WireMock, BackoffIsCapped) {
    mock_->faults(rules({fault("*", "status", 4, "\"status\":500")}));
    ClientConfig c = config();
    c.retries = 4;
    c.backoff_initial_ms = 100;
    c.backoff_max_ms = 100;
    Client client(c);
    const auto t0 = Clock::now();
    Body b = client.base(test_hetus(1));
    const double elapsed = seconds_since(t0);
    EXPECT_EQ(b.attempts, 5);
    EXPECT_GE(elapsed, 4 * 0.05);
    EXPECT_LT(elapsed, 4 * 0.1 + 2.0);  // uncapped it would be >= 0.75 s
}

TEST_F(WireMock, SleepHookUsedForBackoff) {
    mock_->faults(rules({fault("*", "status", 2, "\"status\":503")}));
    ClientConfig c = config();
    c.backoff_initial_ms = 200;
    c.backoff_max_ms = 400;
    int calls = 0;
    long total = 0;
    int longest = 0;
    c.sleep = [&](int ms) {
        ++calls;
        total += ms;
        longest = std::max(longest, ms);
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    };
    Client client(c);
    Body b = client.base(test_hetus(1));
    EXPECT_EQ(b.attempts, 3);
    EXPECT_GE(calls, 2);
    EXPECT_GE(total, 100 + 200 - 2 * 50);  // the last slice may be cut by poll timing
    EXPECT_LE(longest, c.poll_interval_ms);
}

TEST_F(WireMock, DelayPastTimeoutIsTimeout) {
    mock_->faults(rules({fault("*", "delay", -1, "\"ms\":3000")}));
    ClientConfig c = config();
    c.request_timeout_ms = 400;
    c.retries = 1;
    Client client(c);
    const auto t0 = Clock::now();
    WireError e = expect_wire_error([&] { client.start_key("2024-05-01"); });
    const double elapsed = seconds_since(t0);
    EXPECT_EQ(e.kind(), ErrorKind::Timeout) << e.what();
    EXPECT_EQ(e.curl_code(), 28);
    EXPECT_EQ(e.attempts(), 2);
    EXPECT_GE(elapsed, 0.8);
    EXPECT_LT(elapsed, 2.9);
}

TEST_F(WireMock, TimeoutRetriedThenSuccess) {
    mock_->faults(rules({fault("*", "delay", 1, "\"ms\":2000")}));
    ClientConfig c = config();
    c.request_timeout_ms = 500;
    Client client(c);
    Body b = client.base(test_hetus(1));
    EXPECT_EQ(b.attempts, 2);
}

TEST_F(WireMock, DropRetried) {
    mock_->faults(rules({fault("*", "drop", 1)}));
    Client client(config());
    Body b = client.base(test_hetus(2));
    EXPECT_EQ(b.http_status, 200);
    EXPECT_EQ(b.attempts, 2);
}

TEST_F(WireMock, DropExhaustsRetries) {
    mock_->faults(rules({fault("*", "drop", -1)}));
    ClientConfig c = config();
    c.retries = 2;
    Client client(c);
    WireError e = expect_wire_error([&] { client.changes(5, test_hetus(2)); });
    EXPECT_EQ(e.kind(), ErrorKind::Connection) << e.what();
    EXPECT_EQ(e.attempts(), 3);
    EXPECT_NE(e.curl_code(), 0);
}

TEST_F(WireMock, ResetMidBodyRetried) {
    mock_->faults(rules({fault("*", "reset_mid_body", 1)}));
    Client client(config());
    Body b = client.base(test_hetus(20));
    EXPECT_EQ(b.http_status, 200);
    EXPECT_EQ(b.attempts, 2);
}

TEST_F(WireMock, ResetMidBodyExhaustsRetries) {
    mock_->faults(rules({fault("*", "reset_mid_body", -1)}));
    ClientConfig c = config();
    c.retries = 1;
    Client client(c);
    WireError e = expect_wire_error([&] { client.base(test_hetus(20)); });
    EXPECT_EQ(e.kind(), ErrorKind::Connection) << e.what();
    EXPECT_EQ(e.attempts(), 2);
}

TEST_F(WireMock, StallMidBodyPastTimeoutIsTimeout) {
    mock_->faults(rules({fault("*", "stall_mid_body", -1, "\"ms\":3000")}));
    ClientConfig c = config();
    c.request_timeout_ms = 500;
    c.retries = 1;
    Client client(c);
    WireError e = expect_wire_error([&] { client.base(test_hetus(50)); });
    EXPECT_EQ(e.kind(), ErrorKind::Timeout) << e.what();
    EXPECT_EQ(e.attempts(), 2);
    EXPECT_EQ(e.http_status(), 200);  // the head had arrived
}

TEST_F(WireMock, OversizedIsTooLarge) {
    mock_->faults(rules({fault("*", "oversized", -1, "\"bytes\":3000000")}));
    ClientConfig c = config();
    c.max_response_bytes = 1000000;
    Client client(c);
    WireError e = expect_wire_error([&] { client.base(test_hetus(2)); });
    EXPECT_EQ(e.kind(), ErrorKind::TooLarge) << e.what();
    EXPECT_EQ(e.attempts(), 1);
    EXPECT_NE(std::string(e.what()).find("max_response_bytes"), std::string::npos);
    // The client stays usable.
    mock_->reset();
    EXPECT_EQ(client.base(test_hetus(2)).http_status, 200);
}

TEST_F(WireMock, LargeBodyWithinLimit) {
    mock_->faults(rules({fault("*", "oversized", 1, "\"bytes\":3000000")}));
    ClientConfig c = config();
    c.max_response_bytes = 8000000;
    Client client(c);
    Body b = client.base(test_hetus(2));
    EXPECT_GE(b.size(), 3000000u);
    EXPECT_GE(b.capacity(), b.size() + vtj::wire::kBodyPadding);
    for (size_t i = 0; i < vtj::wire::kBodyPadding; ++i) ASSERT_EQ(b.data()[b.size() + i], 0);
}

TEST_F(WireMock, DecoderLevelFaultsArriveAsBodies) {
    // The wire layer passes these through; the decoder judges them.
    for (const char* kind :
         {"invalid_json", "invalid_utf8", "nul_in_string", "wrong_types", "bad_person", "truncate", "partial"}) {
        SCOPED_TRACE(kind);
        mock_->reset();
        mock_->faults(rules({fault("*", kind, 1)}));
        Client client(config());
        Body b = client.base(test_hetus(5));
        EXPECT_EQ(b.http_status, 200);
        EXPECT_EQ(b.attempts, 1);
        EXPECT_GT(b.size(), 0u);
    }
    for (const char* kind : {"key_backwards", "empty_not_current"}) {
        SCOPED_TRACE(kind);
        mock_->reset();
        mock_->faults(rules({fault("*", kind, 1)}));
        Client client(config());
        Body b = client.changes(5446623400, test_hetus(5));
        EXPECT_EQ(b.http_status, 200);
        EXPECT_GT(b.size(), 0u);
    }
}

TEST_F(WireMock, StartKeyBadAnswers) {
    for (const char* kind : {"invalid_json", "wrong_types"}) {
        SCOPED_TRACE(kind);
        mock_->reset();
        mock_->faults(rules({fault("/api/v1/kirjausavain", kind, 1)}));
        Client client(config());
        WireError e = expect_wire_error([&] { client.start_key("2024-05-01"); });
        EXPECT_EQ(e.kind(), ErrorKind::BadResponse) << e.what();
        EXPECT_STREQ(e.phase(), "kirjausavain");
    }
}

TEST_F(WireMock, AbortDuringLongDelay) {
    mock_->faults(rules({fault("*", "delay", -1, "\"ms\":8000")}));
    ClientConfig c = config();
    const auto t0 = Clock::now();
    const auto abort_at = t0 + std::chrono::milliseconds(300);
    std::atomic<int> polls{0};
    c.should_abort = [&] {
        ++polls;
        return Clock::now() >= abort_at;
    };
    Client client(c);
    WireError e = expect_wire_error([&] { client.base(test_hetus(3)); });
    const double late = std::chrono::duration<double>(Clock::now() - abort_at).count();
    EXPECT_EQ(e.kind(), ErrorKind::Aborted);
    EXPECT_EQ(e.attempts(), 1);
    EXPECT_GE(late, 0.0);
    EXPECT_LT(late, 0.5);  // typically < 60 ms
    EXPECT_GE(polls.load(), 3);
    // The client is still usable after an abort.
    mock_->reset();
    c.should_abort = nullptr;
    Client again(c);
    EXPECT_EQ(again.base(test_hetus(1)).http_status, 200);
    EXPECT_EQ(client.config().base_url, c.base_url);
}

TEST_F(WireMock, AbortMidBody) {
    mock_->faults(rules({fault("*", "stall_mid_body", -1, "\"ms\":8000")}));
    ClientConfig c = config();
    const auto abort_at = Clock::now() + std::chrono::milliseconds(300);
    c.should_abort = [&] { return Clock::now() >= abort_at; };
    Client client(c);
    WireError e = expect_wire_error([&] { client.base(test_hetus(50)); });
    EXPECT_EQ(e.kind(), ErrorKind::Aborted);
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - abort_at).count(), 0.5);
}

TEST_F(WireMock, AbortDuringBackoff) {
    mock_->faults(rules({fault("*", "status", -1, "\"status\":503")}));
    ClientConfig c = config();
    c.backoff_initial_ms = 10000;
    c.backoff_max_ms = 10000;
    Clock::time_point abort_at = Clock::now() + std::chrono::milliseconds(400);
    c.should_abort = [&] { return Clock::now() >= abort_at; };
    Client client(c);
    WireError e = expect_wire_error([&] { client.base(test_hetus(1)); });
    const double late = std::chrono::duration<double>(Clock::now() - abort_at).count();
    EXPECT_EQ(e.kind(), ErrorKind::Aborted);
    EXPECT_LT(late, 0.5);
}

TEST_F(WireMock, AbortHookExceptionPropagates) {
    mock_->faults(rules({fault("*", "delay", -1, "\"ms\":5000")}));
    struct Cancelled : std::runtime_error {
        Cancelled() : std::runtime_error("query cancelled") {}
    };
    ClientConfig c = config();
    const auto abort_at = Clock::now() + std::chrono::milliseconds(200);
    c.should_abort = [&]() -> bool {
        if (Clock::now() >= abort_at) throw Cancelled();
        return false;
    };
    Client client(c);
    const auto t0 = Clock::now();
    EXPECT_THROW(client.base(test_hetus(1)), Cancelled);
    EXPECT_LT(seconds_since(t0), 1.5);
}

TEST_F(WireMock, ConnectionReuse) {
    Client client(config());
    const int64_t key = client.start_key("2024-05-01");
    for (int i = 0; i < 4; ++i) client.base(test_hetus(3, i * 10));
    client.changes(key, test_hetus(3));
    EXPECT_EQ(client.stats().requests, 6u);
    EXPECT_EQ(client.stats().connections, 1u);
}

TEST_F(WireMock, ParallelBaseFetchOverlapsLatency) {
    mock_->faults(rules({fault("*", "latency", -1, "\"ms\":200")}));
    ClientConfig c = config();
    c.parallel = 4;
    Client client(c);
    std::vector<std::vector<std::string>> batches;
    for (int i = 0; i < 20; ++i) batches.push_back(test_hetus(5, i * 5));
    std::vector<int> seen(20, 0);
    const auto t0 = Clock::now();
    client.base_parallel(batches, [&](Body&& b) {
        ASSERT_LT(b.index, 20u);
        ++seen[b.index];
        EXPECT_EQ(b.http_status, 200);
        EXPECT_EQ(b.attempts, 1);
        EXPECT_GE(b.elapsed_s, 0.19);
    });
    const double elapsed = seconds_since(t0);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(seen[i], 1) << i;
    EXPECT_GE(elapsed, 20 / 4 * 0.2 - 0.02);
    EXPECT_LT(elapsed, 2.5);  // sequential would take >= 4 s
    EXPECT_EQ(client.stats().requests, 20u);
    EXPECT_LE(client.stats().connections, 4u);
    auto reqs = recorded_api();
    EXPECT_EQ(reqs.size(), 20u);
    for (const auto& r : reqs) EXPECT_EQ(r.hetu_count, 5);
}

TEST_F(WireMock, ParallelKeepsAtMostParallelInFlight) {
    mock_->faults(rules({fault("*", "latency", -1, "\"ms\":100")}));
    ClientConfig c = config();
    c.parallel = 3;
    Client client(c);
    int produced = 0, delivered = 0, max_outstanding = 0;
    const auto t0 = Clock::now();
    client.base_parallel(
        [&](std::vector<std::string>& batch) {
            if (produced == 12) return false;
            batch = test_hetus(2, produced * 2);
            ++produced;
            max_outstanding = std::max(max_outstanding, produced - delivered);
            return true;
        },
        [&](Body&&) { ++delivered; });
    const double elapsed = seconds_since(t0);
    EXPECT_EQ(delivered, 12);
    // The source is asked only for free slots: at most `parallel` in flight
    // plus at most `parallel` finished bodies waiting for the callback.
    EXPECT_LE(max_outstanding, 2 * 3);
    EXPECT_GE(max_outstanding, 3);
    // 12 batches, 3 at a time, 100 ms each: four rounds (more in flight
    // would finish in three).
    EXPECT_GE(elapsed, 0.4 - 0.02);
    EXPECT_LT(elapsed, 2.0);
}

TEST_F(WireMock, ParallelRetriesPerBatch) {
    mock_->faults(rules({fault("*", "status", 3, "\"status\":503")}));
    ClientConfig c = config();
    c.parallel = 4;
    Client client(c);
    std::vector<std::vector<std::string>> batches;
    for (int i = 0; i < 8; ++i) batches.push_back(test_hetus(3, i * 3));
    int total_attempts = 0, n = 0;
    client.base_parallel(batches, [&](Body&& b) {
        total_attempts += b.attempts;
        ++n;
    });
    EXPECT_EQ(n, 8);
    EXPECT_EQ(total_attempts, 11);
}

TEST_F(WireMock, ParallelErrorStopsEverything) {
    mock_->faults(rules({fault("*", "status", -1, "\"status\":404,\"skip\":5")}));
    ClientConfig c = config();
    c.parallel = 4;
    Client client(c);
    std::vector<std::vector<std::string>> batches;
    for (int i = 0; i < 30; ++i) batches.push_back(test_hetus(2, i * 2));
    int n = 0;
    WireError e = expect_wire_error([&] { client.base_parallel(batches, [&](Body&&) { ++n; }); });
    EXPECT_EQ(e.kind(), ErrorKind::Http);
    EXPECT_EQ(e.http_status(), 404);
    EXPECT_LE(n, 5);
    EXPECT_LT(recorded_api().size(), 30u);
    mock_->reset();
    EXPECT_EQ(client.base(test_hetus(1)).http_status, 200);
}

TEST_F(WireMock, ParallelCallbackThrowStopsCleanly) {
    mock_->faults(rules({fault("*", "latency", -1, "\"ms\":100")}));
    ClientConfig c = config();
    c.parallel = 4;
    Client client(c);
    std::vector<std::vector<std::string>> batches;
    for (int i = 0; i < 40; ++i) batches.push_back(test_hetus(2, i * 2));
    int n = 0;
    EXPECT_THROW(client.base_parallel(batches,
                                      [&](Body&&) {
                                          if (++n == 3) throw std::logic_error("merge failed");
                                      }),
                 std::logic_error);
    EXPECT_EQ(n, 3);
    EXPECT_LE(client.stats().requests, 3u + 2 * 4u);
    // Usable afterwards, also for another parallel run.
    mock_->reset();
    int m = 0;
    client.base_parallel({batches.begin(), batches.begin() + 6}, [&](Body&&) { ++m; });
    EXPECT_EQ(m, 6);
}

TEST_F(WireMock, ParallelAbort) {
    mock_->faults(rules({fault("*", "latency", -1, "\"ms\":300")}));
    ClientConfig c = config();
    c.parallel = 4;
    const auto abort_at = Clock::now() + std::chrono::milliseconds(450);
    c.should_abort = [&] { return Clock::now() >= abort_at; };
    Client client(c);
    std::vector<std::vector<std::string>> batches;
    for (int i = 0; i < 40; ++i) batches.push_back(test_hetus(2, i * 2));
    int n = 0;
    WireError e = expect_wire_error([&] { client.base_parallel(batches, [&](Body&&) { ++n; }); });
    EXPECT_EQ(e.kind(), ErrorKind::Aborted);
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - abort_at).count(), 0.5);
    EXPECT_LT(n, 40);
}

TEST_F(WireMock, ErrorMessagesCarryNoSecretsOrHetus) {
    const std::string password = "Very-Secret-Pw-123";
    MockServer own(vtj::test::MockOptions{false, false, kUser, password, "", -1, {}});
    const std::vector<std::string> hetus = test_hetus(4, 500);
    std::vector<std::string> messages;

    auto cfg = [&] {
        ClientConfig c = config();
        c.base_url = own.base_url();
        c.password = password;
        c.retries = 1;
        c.request_timeout_ms = 300;
        return c;
    };
    auto collect = [&](const std::function<void()>& f) {
        try {
            f();
            ADD_FAILURE() << "no error";
        } catch (const std::exception& e) {
            messages.push_back(e.what());
        }
    };
    {
        ClientConfig c = cfg();
        c.password = "Other-Secret-Pw-456";
        Client client(c);
        collect([&] { client.base(hetus); });
    }
    Client client(cfg());
    own.faults(rules({fault("*", "status", -1, "\"status\":500")}));
    collect([&] { client.base(hetus); });
    collect([&] { client.changes(1, hetus); });
    own.reset();
    own.faults(rules({fault("*", "delay", -1, "\"ms\":2000")}));
    collect([&] { client.base(hetus); });
    own.reset();
    own.faults(rules({fault("*", "drop", -1)}));
    collect([&] { client.base(hetus); });
    own.reset();
    own.faults(rules({fault("*", "reset_mid_body", -1)}));
    collect([&] { client.base(hetus); });
    own.reset();
    own.faults(rules({fault("*", "stall_mid_body", -1, "\"ms\":2000")}));
    collect([&] { client.base(hetus); });
    own.reset();
    own.faults(rules({fault("*", "status", -1, "\"status\":429,\"retry_after\":\"99999\"")}));
    collect([&] { client.base(hetus); });
    {
        ClientConfig c = cfg();
        c.base_url = "http://127.0.0.1:9/api/v1";
        Client refused(c);
        collect([&] { refused.base(hetus); });
    }
    {
        ClientConfig c = cfg();
        c.base_url = "http://" + std::string(kUser) + ":" + password + "@127.0.0.1:9/api/v1";
        collect([&] { Client bad(c); });
    }

    ASSERT_GE(messages.size(), 9u);
    const std::vector<std::string> secrets = {
        password, "Other-Secret-Pw-456", basic_value(kUser, password).substr(6),
        basic_value(kUser, "Other-Secret-Pw-456").substr(6)};
    for (const auto& m : messages) {
        SCOPED_TRACE(m);
        EXPECT_FALSE(m.empty());
        for (const auto& s : secrets) EXPECT_EQ(m.find(s), std::string::npos);
        for (const auto& h : hetus) EXPECT_EQ(m.find(h), std::string::npos);
        EXPECT_EQ(m.find("Authorization"), std::string::npos);
        EXPECT_EQ(m.find("perustiedot\":"), std::string::npos);  // no response body
    }
}

// ---------------------------------------------------------------------------
// HTTP framing errors the mock cannot produce: a tiny raw-socket server that
// answers each connection with the next canned response and closes it.

namespace {

class RawServer {
public:
    explicit RawServer(std::vector<std::string> responses) : responses_(std::move(responses)) {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("socket");
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd_, 16) != 0)
            throw std::runtime_error("bind/listen");
        socklen_t len = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { loop(); });
    }
    ~RawServer() {
        stop_ = true;
        thread_.join();
        close(fd_);
    }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/api/v1"; }
    int connections() const { return connections_.load(); }

private:
    void loop() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            const int c = accept(fd_, nullptr, nullptr);
            if (c < 0) continue;
            const int n = connections_++;
            // Read the request head and its body.
            std::string req;
            char buf[4096];
            size_t need = std::string::npos;
            while (true) {
                pollfd q{c, POLLIN, 0};
                if (::poll(&q, 1, 2000) <= 0) break;
                const ssize_t r = read(c, buf, sizeof buf);
                if (r <= 0) break;
                req.append(buf, static_cast<size_t>(r));
                const size_t head_end = req.find("\r\n\r\n");
                if (head_end != std::string::npos && need == std::string::npos) {
                    size_t cl = 0;
                    const size_t at = req.find("Content-Length: ");
                    if (at != std::string::npos && at < head_end) cl = std::stoul(req.substr(at + 16));
                    need = head_end + 4 + cl;
                }
                if (need != std::string::npos && req.size() >= need) break;
            }
            const std::string& resp = responses_[std::min<size_t>(n, responses_.size() - 1)];
            size_t off = 0;
            while (off < resp.size()) {
                const ssize_t w = write(c, resp.data() + off, resp.size() - off);
                if (w <= 0) break;
                off += static_cast<size_t>(w);
            }
            shutdown(c, SHUT_WR);
            close(c);
        }
    }

    std::vector<std::string> responses_;
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::thread thread_;
};

ClientConfig raw_config(const RawServer& s) {
    ClientConfig c;
    c.base_url = s.base_url();
    c.xroad_client = kXroad;
    c.username = kUser;
    c.password = kPassword;
    c.retries = 2;
    c.backoff_initial_ms = 10;
    c.backoff_max_ms = 20;
    c.request_timeout_ms = 5000;
    return c;
}

const std::string kGoodKey =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 29\r\n\r\n"
    "{\"viimeisinKirjausavain\": 42}";

}  // namespace

// gzip bytes of `data`, made by the test Python (no zlib dependency here).
std::string gzip_of(const std::string& data) {
    vtj::test::TempDir d("vtj-gzip");
    {
        std::ofstream(d.file("in"), std::ios::binary) << data;
    }
    const int rc = vtj::test::run_program(
        {VTJ_PYTHON, "-c",
         "import gzip,sys; open(sys.argv[2],'wb').write(gzip.compress(open(sys.argv[1],'rb').read()))",
         d.file("in"), d.file("out")},
        d.file("log"));
    if (rc != 0) throw std::runtime_error("gzip failed: " + vtj::test::read_file(d.file("log")));
    return vtj::test::read_file(d.file("out"));
}

std::string gzip_response(const std::string& data) {
    const std::string z = gzip_of(data);
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
           "Content-Length: " + std::to_string(z.size()) + "\r\n\r\n" + z;
}

TEST(WireFraming, GzipBodyIsDecoded) {
    RawServer s({gzip_response(R"({"viimeisinKirjausavain": 42})")});
    Client client(raw_config(s));
    EXPECT_EQ(client.start_key("2024-05-01"), 42);
}

TEST(WireFraming, GzipBombIsTooLarge) {
    // ~2 KB on the wire, 3 MB decoded: the limit applies to decoded bytes.
    RawServer s({gzip_response("{" + std::string(3000000, ' ') + "}")});
    ClientConfig c = raw_config(s);
    c.max_response_bytes = 1000000;
    Client client(c);
    WireError e = expect_wire_error([&] { client.base({test_hetu(1)}); });
    EXPECT_EQ(e.kind(), ErrorKind::TooLarge) << e.what();
    EXPECT_EQ(e.attempts(), 1);
    EXPECT_LE(client.stats().bytes, 1000000u);
}

TEST(WireFraming, ContentLengthMismatchIsRetriedConnectionError) {
    RawServer s({"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                 "{\"perustiedot\":["});
    Client client(raw_config(s));
    WireError e = expect_wire_error([&] { client.base({test_hetu(1)}); });
    EXPECT_EQ(e.kind(), ErrorKind::Connection) << e.what();
    EXPECT_EQ(e.curl_code(), 18);  // CURLE_PARTIAL_FILE
    EXPECT_EQ(e.attempts(), 3);
    EXPECT_EQ(s.connections(), 3);
}

TEST(WireFraming, UnterminatedChunkedBodyIsError) {
    RawServer s({"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5\r\n{\"a\":\r\n"});
    ClientConfig c = raw_config(s);
    c.retries = 0;
    Client client(c);
    WireError e = expect_wire_error([&] { client.base({test_hetu(1)}); });
    EXPECT_EQ(e.kind(), ErrorKind::Connection) << e.what();
    EXPECT_EQ(e.attempts(), 1);
}

TEST(WireFraming, TruncatedOnceThenSuccess) {
    RawServer s({"HTTP/1.1 200 OK\r\nContent-Length: 29\r\n\r\n{\"viimeisin", kGoodKey});
    Client client(raw_config(s));
    EXPECT_EQ(client.start_key("2024-05-01"), 42);
    EXPECT_EQ(s.connections(), 2);
}

TEST(WireFraming, RedirectIsNotFollowed) {
    RawServer s({"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/elsewhere\r\nContent-Length: 0\r\n\r\n",
                 kGoodKey});
    Client client(raw_config(s));
    WireError e = expect_wire_error([&] { client.start_key("2024-05-01"); });
    EXPECT_EQ(e.kind(), ErrorKind::Http);
    EXPECT_EQ(e.http_status(), 302);
    EXPECT_EQ(e.attempts(), 1);
    EXPECT_EQ(s.connections(), 1);
}

TEST(WireFraming, EmptySuccessBodyIsBadStartKey) {
    RawServer s({"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"});
    Client client(raw_config(s));
    WireError e = expect_wire_error([&] { client.start_key("2024-05-01"); });
    EXPECT_EQ(e.kind(), ErrorKind::BadResponse);
    Body b = client.base({test_hetu(1)});
    EXPECT_EQ(b.size(), 0u);
    ASSERT_NE(b.data(), nullptr);
    EXPECT_GE(b.capacity(), vtj::wire::kBodyPadding);
}

TEST(WireFraming, NegativeStartKeyIsBadResponse) {
    RawServer s({"HTTP/1.1 200 OK\r\nContent-Length: 29\r\n\r\n{\"viimeisinKirjausavain\": -1}"});
    Client client(raw_config(s));
    WireError e = expect_wire_error([&] { client.start_key("2024-05-01"); });
    EXPECT_EQ(e.kind(), ErrorKind::BadResponse);
}

TEST(WireFraming, ContentLengthAboveLimitIsTooLargeBeforeDownload) {
    RawServer s({"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n{}"});
    ClientConfig c = raw_config(s);
    c.max_response_bytes = 1000;
    Client client(c);
    WireError e = expect_wire_error([&] { client.base({test_hetu(1)}); });
    EXPECT_EQ(e.kind(), ErrorKind::TooLarge) << e.what();
    EXPECT_EQ(e.attempts(), 1);
}

// ---------------------------------------------------------------------------
// TLS and mTLS

class WireTls : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        try {
            vtj::test::MockOptions o;
            o.tls = true;
            mock_ = new MockServer(o);
        } catch (const std::exception& e) {
            start_error_ = e.what();
        }
    }
    static void TearDownTestSuite() {
        delete mock_;
        mock_ = nullptr;
    }
    void SetUp() override {
        ASSERT_NE(mock_, nullptr) << "mock server: " << start_error_;
        mock_->reset();
    }
    static ClientConfig config() {
        ClientConfig c;
        c.base_url = mock_->base_url();
        c.xroad_client = kXroad;
        c.username = kUser;
        c.password = kPassword;
        c.retries = 2;
        c.backoff_initial_ms = 20;
        c.backoff_max_ms = 40;
        c.tls_ca_file = vtj::test::Certs::get().ca();
        return c;
    }
    static MockServer* mock_;
    static std::string start_error_;
};
MockServer* WireTls::mock_ = nullptr;
std::string WireTls::start_error_;

TEST_F(WireTls, RightCaSucceeds) {
    Client client(config());
    EXPECT_GT(client.start_key("2024-05-01"), 0);
    EXPECT_EQ(client.base(test_hetus(3)).http_status, 200);
    EXPECT_EQ(client.stats().connections, 1u);
}

TEST_F(WireTls, LocalhostNameVerifies) {
    ClientConfig c = config();
    c.base_url = "https://localhost:" + std::to_string(mock_->port()) + "/api/v1";
    Client client(c);
    EXPECT_GT(client.start_key("2024-05-01"), 0);
}

TEST_F(WireTls, WrongCaFailsWithTls) {
    ClientConfig c = config();
    c.tls_ca_file = vtj::test::Certs::get().other_ca();
    Client client(c);
    WireError e = expect_wire_error([&] { client.start_key("2024-05-01"); });
    EXPECT_EQ(e.kind(), ErrorKind::Tls) << e.what();
    EXPECT_EQ(e.attempts(), 1);  // not retried
    EXPECT_EQ(e.curl_code(), 60);  // CURLE_PEER_FAILED_VERIFICATION
}

TEST_F(WireTls, SystemTrustStoreRejectsTestCa) {
    ClientConfig c = config();
    c.tls_ca_file.clear();
    Client client(c);
    WireError e = expect_wire_error([&] { client.base(test_hetus(1)); });
    EXPECT_EQ(e.kind(), ErrorKind::Tls) << e.what();
}

TEST_F(WireTls, PlainHttpToTlsPortFails) {
    ClientConfig c = config();
    c.tls_ca_file.clear();
    c.base_url = "http://127.0.0.1:" + std::to_string(mock_->port()) + "/api/v1";
    c.request_timeout_ms = 2000;
    c.retries = 0;
    Client client(c);
    EXPECT_THROW(client.base(test_hetus(1)), WireError);
}

class WireMtls : public WireTls {
protected:
    static void SetUpTestSuite() {
        try {
            vtj::test::MockOptions o;
            o.tls = true;
            o.client_auth = true;
            mock_ = new MockServer(o);
        } catch (const std::exception& e) {
            start_error_ = e.what();
        }
    }
};

// Under TLS 1.3 the server refuses a missing or foreign client certificate
// after the client has finished its handshake: the client sees the alert on
// its first read (Tls, not retried) or, racing with it, a broken pipe on its
// write (Connection, retried; a later attempt usually reads the alert).
void expect_refused_client(Client& client) {
    WireError e = expect_wire_error([&] { client.base(test_hetus(2)); });
    EXPECT_TRUE(e.kind() == ErrorKind::Tls || e.kind() == ErrorKind::Connection) << e.what();
    EXPECT_EQ(e.http_status(), 0);
    EXPECT_LE(e.attempts(), client.config().retries + 1);
}

TEST_F(WireMtls, MissingClientCertFails) {
    Client client(config());
    for (int i = 0; i < 3; ++i) expect_refused_client(client);
}

TEST_F(WireMtls, ForeignClientCertFails) {
    ClientConfig c = config();
    c.tls_cert_file = vtj::test::Certs::get().other_client_cert();
    c.tls_key_file = vtj::test::Certs::get().other_client_key();
    Client client(c);
    for (int i = 0; i < 3; ++i) expect_refused_client(client);
}

TEST_F(WireMtls, MismatchedKeyIsTlsError) {
    ClientConfig c = config();
    c.tls_cert_file = vtj::test::Certs::get().client_cert();
    c.tls_key_file = vtj::test::Certs::get().other_client_key();
    Client client(c);
    WireError e = expect_wire_error([&] { client.base(test_hetus(2)); });
    EXPECT_EQ(e.kind(), ErrorKind::Tls) << e.what();
    EXPECT_EQ(e.attempts(), 1) << e.what();
}

TEST_F(WireMtls, ClientCertSucceeds) {
    ClientConfig c = config();
    c.tls_cert_file = vtj::test::Certs::get().client_cert();
    c.tls_key_file = vtj::test::Certs::get().client_key();
    Client client(c);
    EXPECT_GT(client.start_key("2024-05-01"), 0);
    EXPECT_EQ(client.base(test_hetus(2)).http_status, 200);
    EXPECT_EQ(client.changes(1, test_hetus(2)).http_status, 200);
    EXPECT_EQ(client.stats().connections, 1u);
}
