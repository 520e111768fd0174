#include "gateway/static_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace confab::gateway {
namespace {
namespace http = boost::beast::http;

static_request get(std::string_view target, std::string_view accept_encoding = {}) {
  static_request r;
  r.target = target;
  r.accept_encoding = accept_encoding;
  return r;
}

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

  auto idx = serve_static_file(root.string(), get("/"));
  ASSERT_TRUE(idx);
  EXPECT_EQ(idx->result_int(), 200);
  EXPECT_EQ(idx->body(), "<!doctype html>");
  EXPECT_EQ((*idx)[boost::beast::http::field::cache_control], "no-cache");
  EXPECT_EQ((*idx)["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ((*idx)["Content-Security-Policy"], content_security_policy);

  auto js = serve_static_file(root.string(), get("/assets/app-1.js"));
  ASSERT_TRUE(js);
  EXPECT_EQ(js->result_int(), 200);
  EXPECT_EQ((*js)[boost::beast::http::field::content_type], "text/javascript; charset=utf-8");

  for (const char* t : {"/missing.js", "/dir", "/../index.html", "/%2e%2e/index.html"}) {
    auto r = serve_static_file(root.string(), get(t));
    ASSERT_TRUE(r) << t;
    EXPECT_EQ(r->result_int(), 404) << t;
  }
  // No index.html: the caller keeps its built-in page.
  EXPECT_FALSE(serve_static_file((root / "dir").string(), get("/")));
  fs::remove_all(root);
}

TEST(static_files, encoding_follows_accept_encoding) {
  EXPECT_EQ(pick_encoding("gzip, deflate, br", true, true), "br");
  EXPECT_EQ(pick_encoding("gzip, deflate, br", false, true), "gzip");
  EXPECT_EQ(pick_encoding("gzip", true, true), "gzip");
  EXPECT_EQ(pick_encoding("BR;q=0.5, gzip;q=0.8", true, true), "br");  // any accepted br wins: smaller
  EXPECT_EQ(pick_encoding("br;q=0, gzip", true, true), "gzip");
  EXPECT_EQ(pick_encoding("br;q=0.0, gzip;q=0", true, true), "");
  EXPECT_EQ(pick_encoding("*", true, true), "br");
  EXPECT_EQ(pick_encoding("*;q=0, gzip", true, true), "gzip");
  EXPECT_EQ(pick_encoding("identity", true, true), "");
  EXPECT_EQ(pick_encoding("", true, true), "");
  EXPECT_EQ(pick_encoding("gzip", false, false), "");
  EXPECT_EQ(pick_encoding(",,;;q=,br;q=x", true, true), "");  // junk is ignored; an unreadable q reads as 0
  EXPECT_EQ(pick_encoding(" gzip ;q=1.0 ", true, true), "gzip");
}

class static_root : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() / ("confab-static-enc-" + std::to_string(::getpid()));
    std::filesystem::create_directories(root_ / "assets");
    std::ofstream(root_ / "index.html") << "<!doctype html>";
    std::ofstream(root_ / "assets" / "app-1.js") << "plain";
    std::ofstream(root_ / "assets" / "app-1.js.gz") << "gzipped";
    std::ofstream(root_ / "assets" / "app-1.js.br") << "brotli";
    std::ofstream(root_ / "assets" / "app-1.js.map") << "{}";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::filesystem::path root_;
};

TEST_F(static_root, precompressed_variants_are_sent_with_content_encoding) {
  auto br = serve_static_file(root_.string(), get("/assets/app-1.js", "gzip, deflate, br"));
  ASSERT_TRUE(br);
  EXPECT_EQ(br->body(), "brotli");
  EXPECT_EQ((*br)[http::field::content_encoding], "br");
  EXPECT_EQ((*br)[http::field::vary], "Accept-Encoding");
  EXPECT_EQ((*br)[http::field::content_type], "text/javascript; charset=utf-8");
  auto gz = serve_static_file(root_.string(), get("/assets/app-1.js", "gzip"));
  EXPECT_EQ(gz->body(), "gzipped");
  EXPECT_EQ((*gz)[http::field::content_encoding], "gzip");
  auto plain = serve_static_file(root_.string(), get("/assets/app-1.js"));
  EXPECT_EQ(plain->body(), "plain");
  EXPECT_EQ(plain->count(http::field::content_encoding), 0u);
  EXPECT_EQ((*plain)[http::field::vary], "Accept-Encoding");
  // A file without variants is sent as it is, whatever is accepted.
  auto idx = serve_static_file(root_.string(), get("/", "br"));
  EXPECT_EQ(idx->body(), "<!doctype html>");
  EXPECT_EQ(idx->count(http::field::content_encoding), 0u);
}

TEST_F(static_root, head_has_the_headers_of_get_and_no_body) {
  auto r = get("/assets/app-1.js", "br");
  r.head = true;
  auto h = serve_static_file(root_.string(), r);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->result_int(), 200);
  EXPECT_EQ(h->body(), "");
  EXPECT_EQ((*h)[http::field::content_length], "6");  // "brotli"
  EXPECT_EQ((*h)[http::field::content_encoding], "br");
  r.target = "/missing";
  auto m = serve_static_file(root_.string(), r);
  EXPECT_EQ(m->result_int(), 404);
  EXPECT_EQ(m->body(), "");
  EXPECT_EQ((*m)[http::field::content_length], "10");  // "not found\n"
}

TEST_F(static_root, source_maps_are_published_only_when_asked) {
  auto r = get("/assets/app-1.js.map");
  EXPECT_EQ(serve_static_file(root_.string(), r)->result_int(), 404);
  r.source_maps = true;
  auto m = serve_static_file(root_.string(), r);
  EXPECT_EQ(m->result_int(), 200);
  EXPECT_EQ(m->body(), "{}");
}

}  // namespace
}  // namespace confab::gateway
