#include "manymodels/parallel/threads.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace mm {
namespace {

class ThreadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("SLURM_CPUS_PER_TASK");
    unsetenv("OMP_NUM_THREADS");
  }
  void TearDown() override { SetUp(); }
};

TEST_F(ThreadsTest, FlagWinsOverEnvironment) {
  setenv("SLURM_CPUS_PER_TASK", "3", 1);
  const ThreadChoice c = ResolveThreads(5, 1);
  EXPECT_EQ(c.given, 5);
  EXPECT_EQ(c.used, 5);
  EXPECT_EQ(c.source, "--threads");
}

TEST_F(ThreadsTest, SlurmThenOmp) {
  setenv("OMP_NUM_THREADS", "2", 1);
  EXPECT_EQ(ResolveThreads(0, 1).source, "OMP_NUM_THREADS");
  setenv("SLURM_CPUS_PER_TASK", "1", 1);
  const ThreadChoice c = ResolveThreads(0, 1);
  EXPECT_EQ(c.source, "SLURM_CPUS_PER_TASK");
  EXPECT_EQ(c.used, 1);
  setenv("OMP_NUM_THREADS", "two", 1);
  unsetenv("SLURM_CPUS_PER_TASK");
  EXPECT_THROW(ResolveThreads(0, 1), std::invalid_argument);
}

TEST_F(ThreadsTest, AffinityIsSharedAmongTheNodesRanksOnlyForAWholeNodeMask) {
  const int cpus = CpusInAffinityMask();
  const ThreadChoice alone = ResolveThreads(0, 1);
  EXPECT_EQ(alone.source, "affinity");
  EXPECT_EQ(alone.used, cpus);
  EXPECT_TRUE(alone.warning.empty());
  // With 1000 ranks on the node each gets at least one thread.
  EXPECT_GE(ResolveThreads(0, 1000).used, 1);
  // Oversubscription is allowed, with a warning.
  EXPECT_FALSE(ResolveThreads(cpus + 1, 1).warning.empty());
}

}  // namespace
}  // namespace mm
