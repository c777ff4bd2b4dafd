// NumPy's .npy files (format 1.0): what FINN's build verification and Python tools read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hao::core {

/// Writes a little-endian float32 array of shape `dims` (C order) to `path`. Throws
/// InputError when the file cannot be written or the values do not fill the shape.
void write_npy(const std::string& path, const std::vector<std::int64_t>& dims,
               const std::vector<float>& values);

}  // namespace hao::core
