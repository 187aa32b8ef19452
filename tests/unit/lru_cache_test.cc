#include "lru_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace mm::app {
namespace {

TEST(LruCacheTest, EvictsTheLeastRecentlyUsed) {
  LruCache<int, std::string> cache(2);
  EXPECT_EQ(cache.Put(1, std::make_shared<std::string>("one")), 0u);
  EXPECT_EQ(cache.Put(2, std::make_shared<std::string>("two")), 0u);
  ASSERT_NE(cache.Get(1), nullptr);  // 1 is now the most recent
  EXPECT_EQ(cache.Put(3, std::make_shared<std::string>("three")), 1u);
  EXPECT_EQ(cache.Get(2), nullptr);
  EXPECT_EQ(*cache.Get(1), "one");
  EXPECT_EQ(*cache.Get(3), "three");
  EXPECT_EQ(cache.size(), 2u);
}

TEST(LruCacheTest, ReplacingAKeyEvictsNothing) {
  LruCache<int, std::string> cache(1);
  cache.Put(1, std::make_shared<std::string>("a"));
  EXPECT_EQ(cache.Put(1, std::make_shared<std::string>("b")), 0u);
  EXPECT_EQ(*cache.Get(1), "b");
}

TEST(LruCacheTest, AValueHandedOutOutlivesItsEviction) {
  LruCache<int, std::string> cache(1);
  cache.Put(1, std::make_shared<std::string>("kept"));
  const auto held = cache.Get(1);
  cache.Put(2, std::make_shared<std::string>("new"));
  EXPECT_EQ(cache.Get(1), nullptr);
  EXPECT_EQ(*held, "kept");
}

TEST(LruCacheTest, CapacityZeroKeepsNothing) {
  LruCache<int, int> cache(0);
  EXPECT_EQ(cache.Put(1, std::make_shared<int>(1)), 1u);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(LruCacheTest, StaysWithinItsBoundUnderThreads) {
  LruCache<int, int> cache(16);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 5000; ++i) {
        const int key = (i * 7 + t) % 100;
        if (!cache.Get(key)) cache.Put(key, std::make_shared<int>(key));
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(cache.size(), 16u);
}

}  // namespace
}  // namespace mm::app
