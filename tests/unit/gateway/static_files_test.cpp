#include "gateway/static_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace confab::gateway {
namespace {

TEST(static_files, root_maps_to_index) { EXPECT_EQ(safe_relative_path("/"), "index.html"); }

TEST(static_files, plain_paths_are_accepted) {
  EXPECT_EQ(safe_relative_path("/index.html"), "index.html");
  EXPECT_EQ(safe_relative_path("/assets/app-3F2A9C.js"), "assets/app-3F2A9C.js");
  EXPECT_EQ(safe_relative_path("/a/b_c/d-e.f.css"), "a/b_c/d-e.f.css");
}

TEST(static_files, traversal_and_encoded_variants_are_rejected) {
  for (const char* t : {"/..", "/../etc/passwd", "/assets/../../x", "/assets/..", "/.", "/./index.html", "/...",
                        "/%2e%2e/x", "/%2E%2E%2Fx", "/assets%2f..%2fx", "/a%00b", "/..%5cx", "/a\\..\\b", "//etc/passwd",
                        "/assets//x", "/assets/", "", "index.html", "/a b", "/\xc3\xa9"})
    EXPECT_FALSE(safe_relative_path(t)) << t;
}

TEST(static_files, overlong_paths_are_rejected) {
  EXPECT_FALSE(safe_relative_path("/" + std::string(300, 'a')));
}

TEST(static_files, content_types_by_extension) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("assets/app-X.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("assets/app-X.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("icon.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("noext"), "application/octet-stream");
}

TEST(static_files, hashed_assets_are_immutable_and_index_is_revalidated) {
  EXPECT_EQ(cache_control_for("assets/app-X.js"), "public, max-age=31536000, immutable");
  EXPECT_EQ(cache_control_for("index.html"), "no-cache");
}

TEST(static_files, serves_files_with_headers_and_404s_the_rest) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("confab-static-" + std::to_string(::getpid()));
  fs::create_directories(root / "assets");
  std::ofstream(root / "index.html") << "<!doctype html>";
  std::ofstream(root / "assets" / "app-1.js") << "console.log(1)";
  fs::create_directories(root / "dir");

  auto idx = serve_static_file(root.string(), "/", 11, true);
  ASSERT_TRUE(idx);
  EXPECT_EQ(idx->result_int(), 200);
  EXPECT_EQ(idx->body(), "<!doctype html>");
  EXPECT_EQ((*idx)[boost::beast::http::field::cache_control], "no-cache");
  EXPECT_EQ((*idx)["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ((*idx)["Content-Security-Policy"], content_security_policy);

  auto js = serve_static_file(root.string(), "/assets/app-1.js", 11, true);
  ASSERT_TRUE(js);
  EXPECT_EQ(js->result_int(), 200);
  EXPECT_EQ((*js)[boost::beast::http::field::content_type], "text/javascript; charset=utf-8");

  for (const char* t : {"/missing.js", "/dir", "/../index.html", "/%2e%2e/index.html"}) {
    auto r = serve_static_file(root.string(), t, 11, true);
    ASSERT_TRUE(r) << t;
    EXPECT_EQ(r->result_int(), 404) << t;
  }
  // No index.html: the caller keeps its built-in page.
  EXPECT_FALSE(serve_static_file((root / "dir").string(), "/", 11, true));
  fs::remove_all(root);
}

}  // namespace
}  // namespace confab::gateway
