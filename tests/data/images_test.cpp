#include "data/images.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "support.hpp"

namespace hao::data {
namespace {

std::string be32(std::uint32_t v) {
  std::string s(4, '\0');
  for (int k = 3; k >= 0; --k, v >>= 8)
    s[static_cast<std::size_t>(k)] = static_cast<char>(v & 0xff);
  return s;
}

std::string idx_images(std::uint32_t n, std::uint32_t h, std::uint32_t w) {
  std::string s = be32(0x803) + be32(n) + be32(h) + be32(w);
  for (std::uint32_t i = 0; i < n * h * w; ++i) s += static_cast<char>(i % 251);
  return s;
}

std::string idx_labels(const std::vector<int>& labels) {
  std::string s = be32(0x801) + be32(static_cast<std::uint32_t>(labels.size()));
  for (int l : labels) s += static_cast<char>(l);
  return s;
}

void write(const std::string& path, const std::string& bytes, bool gzip) {
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream(path, std::ios::binary) << bytes;
  }
}

TEST(Images, ParsesIdxImagesAndLabels) {
  const ImageSet s = parse_idx(idx_images(3, 2, 4), idx_labels({0, 9, 4}), "i", "l");
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s.channels, 1);
  EXPECT_EQ(s.height, 2);
  EXPECT_EQ(s.width, 4);
  EXPECT_EQ(s.classes, 10);  // the largest label + 1
  EXPECT_EQ(s.pixels.size(), 24u);
  EXPECT_EQ(s.pixels[23], 23);
  EXPECT_EQ(s.labels[1], 9);
}

TEST(Images, BadIdxNamesTheFileAndTheProblem) {
  auto fails = [](const std::string& images, const std::string& labels) {
    return test::input_error([&] { parse_idx(images, labels, "img.idx", "lab.idx"); });
  };
  EXPECT_NE(fails("abc", idx_labels({1})).find("img.idx: 3 bytes, too short"), std::string::npos);
  const std::string labels8 = idx_labels({1, 2, 3, 4, 5, 6, 7, 8});  // as long as a header
  EXPECT_NE(fails(labels8, idx_labels({1})).find("img.idx: magic number 2049, expected 2051"),
            std::string::npos);
  std::string cut = idx_images(3, 2, 2);
  cut.pop_back();
  EXPECT_NE(fails(cut, idx_labels({1, 2, 3})).find("announces 12 bytes of data, the file has 11"),
            std::string::npos);
  EXPECT_NE(fails(idx_images(2, 2, 2), idx_labels({1})).find("img.idx has 2 images but lab.idx"),
            std::string::npos);
  // IDX files do not declare the class count: it is the largest label + 1.
  EXPECT_EQ(parse_idx(idx_images(1, 2, 2), idx_labels({200}), "i", "l").classes, 201);
}

TEST(Images, ParsesCifar10Records) {
  std::string batch;
  for (int r = 0; r < 2; ++r) {
    batch += static_cast<char>(r + 3);  // label
    batch += std::string(3 * 32 * 32, static_cast<char>(r));
  }
  const ImageSet s = parse_cifar10({batch}, {"b.bin"});
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.channels, 3);
  EXPECT_EQ(s.labels[1], 4);
  EXPECT_EQ(s.pixels.size(), 2u * 3072);
  EXPECT_NE(test::input_error([&] {
              parse_cifar10({batch.substr(1)}, {"b.bin"});
            }).find("b.bin: 6145 bytes, not a whole number"),
            std::string::npos);
}

TEST(Images, LoadsAnIdxDirectoryPlainOrGzip) {
  const std::string dir = ::testing::TempDir() + "idx_set";
  std::filesystem::create_directories(dir);
  write(dir + "/train-images-idx3-ubyte.gz", idx_images(5, 3, 3), true);
  write(dir + "/train-labels-idx1-ubyte.gz", idx_labels({0, 1, 2, 3, 4}), true);
  write(dir + "/t10k-images-idx3-ubyte", idx_images(2, 3, 3), false);
  write(dir + "/t10k-labels-idx1-ubyte", idx_labels({5, 6}), false);
  const DataSet ds = load_dataset("idx:" + dir);
  EXPECT_EQ(ds.train.size(), 5u);
  EXPECT_EQ(ds.test.size(), 2u);
  EXPECT_EQ(ds.train.pixels[8], 8);
  write(dir + "/t10k-labels-idx1-ubyte", "garbage", false);
  EXPECT_NE(test::input_error([&] {
              load_dataset("idx:" + dir);
            }).find("t10k-labels-idx1-ubyte: 7 bytes"),
            std::string::npos);
  std::filesystem::remove(dir + "/t10k-labels-idx1-ubyte");
  EXPECT_NE(test::input_error([&] {
              load_dataset("idx:" + dir);
            }).find("t10k-labels-idx1-ubyte[.gz]: no such file"),
            std::string::npos);
  EXPECT_NE(
      test::input_error([] { load_dataset("mnist"); }).find("expected fashion-mnist, idx:DIR"),
      std::string::npos);
}

TEST(Images, DefaultDataSetNamesItsPackageWhenMissing) {
  if (std::filesystem::exists(kFashionMnistDir)) {
    const DataSet ds = load_dataset("fashion-mnist");
    EXPECT_EQ(ds.train.size(), 60000u);
    EXPECT_EQ(ds.test.size(), 10000u);
    EXPECT_EQ(ds.train.height, 28);
    EXPECT_EQ(ds.train.classes, 10);
  } else {
    EXPECT_NE(
        test::input_error([] { load_dataset("fashion-mnist"); }).find("dataset-fashion-mnist"),
        std::string::npos);
  }
}

TEST(Images, SplitIsSeededDisjointAndComplete) {
  const Split a = split(1000, 100, 7), b = split(1000, 100, 7), c = split(1000, 100, 8);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.validation, b.validation);
  EXPECT_NE(a.validation, c.validation);
  EXPECT_EQ(a.train.size(), 900u);
  std::vector<bool> seen(1000, false);
  for (auto i : a.train) seen[i] = true;
  for (auto i : a.validation) {
    EXPECT_FALSE(seen[i]);
    seen[i] = true;
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 1000);
  EXPECT_EQ(split(1000, 100, 7, 50).train.size(), 50u);
  EXPECT_THROW(split(10, 10, 1), core::InputError);
}

}  // namespace
}  // namespace hao::data
