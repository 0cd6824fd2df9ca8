// SPDX-License-Identifier: BSD-3-Clause
// The library runs user code while holding a lock of its own in two places:
// a wait counter factory's create() (under its key's attach lock, until the
// key's backends are attached) and a DynamicCounter backend's methods (under
// the DynamicCounter registry's lock, which orders registrations). User code
// there may call back into the library. A thread doing so must never block
// on a lock that another thread may hold while itself running user code, or
// the two can wait for each other for ever (thread A in create() of key K
// builds a DynamicCounter and waits for the registry's lock; thread B holds
// it in a backend and makes a handle for K, waiting for K's backends).
//
// So each such call runs inside a LockedCallback scope, and while one is
// open on a thread:
//  - a handle for a key whose backends are still being attached (by this
//    thread or another) does not wait for them (WaitCounterImpl::awaitReady());
//  - registerWaitCounterBackend() and unregisterWaitCounterBackend(), which
//    take every key's attach lock, throw std::logic_error (refuse()).
// The DynamicCounter registry's lock is re-entrant for its holder, which may
// build and destroy counters but not (un)register backends (see
// DynamicCounterRegistry.h). Everything else may be called freely.
#pragma once

namespace probemon::detail {

class LockedCallback {
 public:
  // `what` names the user code for messages: "a WaitCounterBackendFactoryIf::create()".
  explicit LockedCallback(const char* what) : outer_(current_) { current_ = what; }
  ~LockedCallback() { current_ = outer_; }
  LockedCallback(const LockedCallback&) = delete;
  LockedCallback& operator=(const LockedCallback&) = delete;

  // The innermost user code this thread runs under a probemon lock, or null.
  static const char* current() { return current_; }

  // Throws std::logic_error naming `call` and the user code it was made from,
  // if this thread runs any.
  static void refuse(const char* call);

 private:
  const char* const outer_;
  static constinit thread_local const char* current_;
};

}  // namespace probemon::detail
