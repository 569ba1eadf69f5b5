// .axon extraction: safe entries land under the destination; escapes are refused.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/package_archive.h"

namespace mlos::runtime {
namespace {

namespace fs = std::filesystem;

struct Member {
  std::string name;
  std::string data;
  std::string symlink;   // non-empty: a symbolic link to this
  std::string hardlink;  // non-empty: a hard link to this
};

std::string WriteTarGz(const std::string& path, const std::vector<Member>& members) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  archive_write_open_filename(a, path.c_str());
  for (const Member& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_perm(e, 0644);
    if (!m.symlink.empty()) {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_symlink(e, m.symlink.c_str());
    } else if (!m.hardlink.empty()) {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_hardlink(e, m.hardlink.c_str());
    } else {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_size(e, static_cast<la_int64_t>(m.data.size()));
    }
    archive_write_header(a, e);
    if (m.symlink.empty() && m.hardlink.empty())
      archive_write_data(a, m.data.data(), m.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return path;
}

class ArchiveTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string leaf = "mlos_archive_";
    leaf += std::to_string(getpid());
    leaf += '_';
    leaf += testing::UnitTest::GetInstance()->current_test_info()->name();
    root_ = fs::path(testing::TempDir()) / leaf;
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(ArchiveTest, ExtractsFilesAndFolders) {
  std::string tar =
      WriteTarGz((root_ / "ok.axon").string(), {{"manifest.yaml", "name: x\n"},
                                                {"./model/model.onnx", "onnx-bytes"},
                                                {"model/link", "", "model.onnx"},
                                                {"model/hard", "", "", "model/model.onnx"}});
  fs::path dest = root_ / "out";
  Status s = ExtractPackage(tar, dest.string());
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::ifstream f(dest / "model" / "model.onnx");
  std::string got((std::istreambuf_iterator<char>(f)), {});
  EXPECT_EQ(got, "onnx-bytes");
  EXPECT_TRUE(fs::is_symlink(dest / "model" / "link"));
  EXPECT_TRUE(fs::is_regular_file(dest / "model" / "hard"));
  EXPECT_FALSE(ExtractPackage(tar, dest.string()).ok());  // dest exists
}

TEST_F(ArchiveTest, RefusesEscapes) {
  const std::vector<std::vector<Member>> evil = {
      {{"/etc/evil", "x"}},
      {{"../evil", "x"}},
      {{"a/../../evil", "x"}},
      {{"link", "", "/etc"}, {"link/passwd", "x"}},
      {{"link", "", "../.."}},
      {{"a", "", "."}, {"a/../evil", "x"}},
      {{"dir/l", "", "sub"}, {"dir/l/x", "x"}},  // writing through a link
      {{"h", "", "", "/etc/passwd"}},
      {{"h", "", "", "../outside"}},
      {{"dup", "1"}, {"dup", "2"}},
  };
  int i = 0;
  for (const auto& members : evil) {
    std::string tar = WriteTarGz((root_ / (std::to_string(i) + "e.axon")).string(), members);
    fs::path dest = root_ / std::to_string(i++);
    Status s = ExtractPackage(tar, dest.string());
    EXPECT_FALSE(s.ok()) << members[0].name;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_FALSE(fs::exists(dest)) << "partial extraction left behind";
  }
  EXPECT_FALSE(fs::exists(root_ / "evil"));
  EXPECT_FALSE(fs::exists(root_.parent_path() / "evil"));
}

TEST_F(ArchiveTest, CorruptAndSizeLimits) {
  fs::path bad = root_ / "bad.axon";
  std::ofstream(bad) << "\x1f\x8b not really gzip";
  EXPECT_FALSE(ExtractPackage(bad.string(), (root_ / "o1").string()).ok());
  std::string tar = WriteTarGz((root_ / "big.axon").string(), {{"f", std::string(5000, 'x')}});
  ExtractLimits limits;
  limits.max_total_bytes = 1000;
  EXPECT_FALSE(ExtractPackage(tar, (root_ / "o2").string(), limits).ok());
  limits = {};
  limits.max_entries = 0;
  EXPECT_FALSE(ExtractPackage(tar, (root_ / "o3").string(), limits).ok());
}

TEST_F(ArchiveTest, Sha256) {
  fs::path p = root_ / "abc";
  std::ofstream(p) << "abc";
  EXPECT_EQ(*Sha256File(p.string()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_FALSE(Sha256File((root_ / "missing").string()).ok());
}

}  // namespace
}  // namespace mlos::runtime
