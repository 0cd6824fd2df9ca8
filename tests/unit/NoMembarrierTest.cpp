// SPDX-License-Identifier: BSD-3-Clause
// Wait counters on a kernel without membarrier(): this binary forbids the
// system call with a seccomp filter before any test runs, as an old kernel
// or a strict container would. Revokers then cannot see other threads' pins,
// so a set cached by an idle thread is let go by that thread: at its next
// wait on the key, or when it exits (BackendSetRef.h). Counts stay exact and
// no wait starts on an unregistered backend. StressTest.cpp is built into
// this binary too, to run the stress tests in this mode.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/membarrier.h>
#include <linux/seccomp.h>
#include <probemon/WaitCounter.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>

#include "IdleThread.h"
#include "RecordingBackends.h"

namespace probemon::test {
namespace {

// Makes membarrier() fail with ENOSYS for this thread and the threads it
// creates later.
bool forbidMembarrier() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_membarrier, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0 &&
         syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0U, 0) == -1 && errno == ENOSYS;
}

TEST(NoMembarrier, IdleThreadLetsGoOfAnUnregisteredBackendAtItsNextWaitOnTheKey) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  IdleThread idle("nomb.next.wait");
  backend.reset();
  EXPECT_EQ(log->live_backends, 1) << "nothing could tell the idle thread's pins";
  { auto after = WaitCounterHandle("nomb.next.wait").start(); }
  EXPECT_EQ(log->startsOf("nomb.next.wait"), 1) << "a wait started after unregistration";
  idle.finish(/*wait_again=*/true);
  EXPECT_EQ(log->startsOf("nomb.next.wait"), 1);
  EXPECT_EQ(log->stopsOf("nomb.next.wait"), 1);
  EXPECT_EQ(log->live_backends, 0);
  EXPECT_EQ(log->open_at_destruction, 0);
}

TEST(NoMembarrier, IdleThreadLetsGoOfAnUnregisteredBackendWhenItExits) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  IdleThread idle("nomb.exit");
  backend.reset();
  EXPECT_EQ(log->live_backends, 1);
  idle.finish();
  EXPECT_EQ(log->live_backends, 0);
  EXPECT_EQ(log->stopsOf("nomb.exit"), 1);
}

TEST(NoMembarrier, WaitStoppedOffItsThreadStillReachesItsBackend) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  IdleThread starter("nomb.moved", IdleThread::FirstWait::HandedOver);
  backend.reset();
  starter.handedOver().reset();
  EXPECT_EQ(log->stopsOf("nomb.moved"), 1);
  EXPECT_EQ(log->unmatched_stops, 0);
  starter.finish();
  EXPECT_EQ(log->live_backends, 0) << "let go when its thread exited";
  EXPECT_EQ(log->open_at_destruction, 0);
}

}  // namespace
}  // namespace probemon::test

int main(int argc, char** argv) {
  if (!probemon::test::forbidMembarrier()) {
    std::perror("cannot forbid membarrier() with seccomp");
    return 1;
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
