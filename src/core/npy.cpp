#include "core/npy.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

namespace hao::core {

// Written here: the format is a magic string, a Python dict literal and the raw data; no
// Debian package offers a C++ writer (cnpy is not packaged).
void write_npy(const std::string& path, const std::vector<std::int64_t>& dims,
               const std::vector<float>& values) {
  std::int64_t count = 1;
  std::string shape = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    count *= dims[i];
    shape += (i > 0 ? ", " : "") + std::to_string(dims[i]);
  }
  shape += dims.size() == 1 ? ",)" : ")";  // Python's one-element tuple
  if (count != static_cast<std::int64_t>(values.size()))
    throw InputError(path + ": " + std::to_string(values.size()) + " values for shape " + shape);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  // Magic (6) + version (2) + length (2) + header + '\n', padded to a multiple of 64.
  const std::size_t total = 10 + header.size() + 1;
  header += std::string((64 - total % 64) % 64, ' ') + "\n";
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>((header.size() >> 8) & 0xff);
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  write_file(path, bytes);
}

}  // namespace hao::core
