// SPDX-License-Identifier: BSD-3-Clause
// The library across fork(): the child has only the thread that forked, but
// a copy of everything the parent's other threads were doing. Without care a
// lock one of them held stays locked in the child for ever, the probe
// sampler's thread is missing (no DynamicCounter is ever sampled, and
// destroying one waits for that thread), and the threads' cached backend
// sets and in-flight callbacks are counted for threads that do not exist.
//
// So the library registers, once, fork handlers that take its locks before
// the fork, in its one lock order (the DynamicCounter registry, the threads'
// wait state, the wait counter registry and each key's backend set, the key
// table, the threads' wait batches), and release them after it; the child
// first forgets the other threads and restarts the sampler and the batch
// flusher (BatchFlusher.h), and a running recording's counter sampler
// forgets its thread (CounterSampler.h). A fork() thus waits for those locks,
// which are held briefly, except the DynamicCounter registry's while a
// backend runs. Not covered: a wait counter key whose first handle was being
// made (a factory's create() running) on another thread at the fork; its
// waits in the child block.
#pragma once

namespace probemon::detail {

// Registers the fork handlers the first time; called by each registry when
// it is created.
void watchForks();

}  // namespace probemon::detail
