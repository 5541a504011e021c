// The hetu HMAC of the admin log (product.md §8): per-person entries of
// vtj.admin_log carry HMAC-SHA256(key, hetu) as lowercase hex, never the
// hetu. The key is the content of vtj.hmac_key_file without one trailing
// newline ("\n"); without the setting nothing per person is logged.
//
//   vtj._hetu_hmac(hetu text) RETURNS text     NULL when vtj.hmac_key_file is
//                                              not set (STRICT)
//   vtj._hmac_enabled() RETURNS boolean        vtj.hmac_key_file is set
//
// The key file must be a regular file owned by the server's OS user with mode
// 0600 or stricter (like vtj.password_file) and hold 1 to 4096 bytes. It is
// stat()ed at every call and re-read when its inode, size or modification
// time changed, so a rotated key is used at once. The key stays in this
// process's static memory (zeroed before it is replaced); no message ever
// contains the key, its length or the file's name.
#include "pg/boundary.hpp"
#include "pg/settings.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cerrno>
#include <cstring>

namespace {

constexpr size_t kMaxKey = 4096;

// The cached key and the identity of the file it came from.
struct KeyCache {
    bool valid;
    char path[MAXPGPATH];
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    size_t length;
    unsigned char key[kMaxKey];
};
KeyCache cache;  // zero-initialised (static storage)

void forget_key() noexcept {
    explicit_bzero(cache.key, sizeof cache.key);
    cache.length = 0;
    cache.valid = false;
}

[[noreturn]] void key_error(const char* what) {
    forget_key();
    throw pgvtj::SqlError(ERRCODE_CONFIG_FILE_ERROR, what,
                          "vtj.hmac_key_file must name a regular file of 1 to 4096 bytes, owned by the "
                          "database server's user with mode 0600 or stricter.");
}

bool key_configured() noexcept {
    return pgvtj::settings::hmac_key_file != nullptr && pgvtj::settings::hmac_key_file[0] != '\0';
}

// Makes `cache` hold the key of the configured file (throws SqlError).
void load_key() {
    const char* path = pgvtj::settings::hmac_key_file;
    if (std::strlen(path) >= sizeof cache.path)
        key_error("vtj.hmac_key_file is too long a path");
    struct stat st;
    if (stat(path, &st) != 0)
        key_error("vtj.hmac_key_file cannot be read");
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        key_error("vtj.hmac_key_file must be a regular file owned by the database server's user with mode 0600 or stricter");
    if (cache.valid && std::strcmp(cache.path, path) == 0 && cache.dev == st.st_dev && cache.ino == st.st_ino &&
        cache.size == st.st_size && cache.mtime.tv_sec == st.st_mtim.tv_sec &&
        cache.mtime.tv_nsec == st.st_mtim.tv_nsec)
        return;

    forget_key();
    if (st.st_size <= 0 || static_cast<size_t>(st.st_size) > kMaxKey + 1)
        key_error("vtj.hmac_key_file is empty or longer than 4096 bytes");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        key_error("vtj.hmac_key_file cannot be read");
    unsigned char buf[kMaxKey + 2];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, sizeof buf - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            explicit_bzero(buf, sizeof buf);
            key_error("vtj.hmac_key_file cannot be read");
        }
        if (n == 0 || got + static_cast<size_t>(n) >= sizeof buf) {
            got += static_cast<size_t>(n);
            break;
        }
        got += static_cast<size_t>(n);
    }
    close(fd);
    if (got > 0 && buf[got - 1] == '\n')
        --got;  // the key is the file's bytes without a trailing newline
    if (got == 0 || got > kMaxKey) {
        explicit_bzero(buf, sizeof buf);
        key_error("vtj.hmac_key_file is empty or longer than 4096 bytes");
    }
    std::memcpy(cache.key, buf, got);
    explicit_bzero(buf, sizeof buf);
    cache.length = got;
    std::strcpy(cache.path, path);
    cache.dev = st.st_dev;
    cache.ino = st.st_ino;
    cache.size = st.st_size;
    cache.mtime = st.st_mtim;
    cache.valid = true;
}

}  // namespace

// vtj._hetu_hmac(hetu text) RETURNS text: lowercase hex HMAC-SHA256 of the
// text under the key of vtj.hmac_key_file; NULL when the setting is empty.
// STRICT; internal (EXECUTE granted to nobody: the register functions and
// vtj.admin_log_for call it as the extension owner).
PG_VTJ_FUNCTION(vtj_hetu_hmac) {
    if (!key_configured())
        PG_RETURN_NULL();
    load_key();
    const text* data = PG_GETARG_TEXT_PP(0);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (HMAC(EVP_sha256(), cache.key, static_cast<int>(cache.length),
             reinterpret_cast<const unsigned char*>(VARDATA_ANY(data)), VARSIZE_ANY_EXHDR(data), mac,
             &mac_len) == nullptr)
        throw pgvtj::SqlError(ERRCODE_INTERNAL_ERROR, "HMAC-SHA256 failed in OpenSSL");
    static const char hex[] = "0123456789abcdef";
    char out[2 * EVP_MAX_MD_SIZE];
    for (unsigned int i = 0; i < mac_len; ++i) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 0x0f];
    }
    text* result = pgvtj::pg_guard([&] { return cstring_to_text_with_len(out, static_cast<int>(2 * mac_len)); });
    PG_RETURN_TEXT_P(result);
}

// vtj._hmac_enabled() RETURNS boolean: per-person admin log entries are
// written (vtj.hmac_key_file is set). Does not read the file.
PG_VTJ_FUNCTION(vtj_hmac_enabled) {
    return BoolGetDatum(key_configured());
}
