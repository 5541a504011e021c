// Internal to src/wire: fills a Body's padded buffer. Not part of the API.
#pragma once

#include <cstddef>

#include "wire/client.hpp"

namespace vtj::wire {

struct BodyAccess {
    // Ensures room for `data_bytes` of data plus kBodyPadding.
    static void reserve(Body& b, std::size_t data_bytes);
    static void append(Body& b, const char* p, std::size_t n);
    static void clear(Body& b) noexcept;
    // Zeroes the padding after the data (call once the data is complete).
    static void finish(Body& b);
};

}  // namespace vtj::wire
