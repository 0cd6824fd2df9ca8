// SPDX-License-Identifier: BSD-3-Clause
// The memory tracer: probemon's python_tracer::PythonMemoryTracerBase,
// registered with registerMemoryTracer() at import; probemon.memory drives
// it (python/probemon/memory.py).
//
// While started it wraps the interpreter's object and "mem" allocators
// (PyMem_SetAllocator, the domains that are always called with the GIL
// held) and records every allocation and every free of a block allocated
// while it ran: when (getApproximateTime()), the address, the size, and the
// allocation site, the innermost `frames` Python frames read from the frame
// stack (FrameWalk.h) and interned, so each distinct site is stored once.
// Each event takes 32 bytes (in huge-page chunks, the recording's storage);
// at most max_entries are stored, the rest are counted as dropped. The bytes allocated while
// tracing and not yet freed are a DynamicCounter, "python.memory.traced_bytes", so a recording that
// runs meanwhile has them as a counter track.
//
// export_memory_history(path) writes the documented JSON history
// (docs/python.md, "Memory history").
//
// Threading: the hooks and everything they touch run with the GIL held.
#include "MemoryTracer.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <probemon/ApproximateClock.h>
#include <probemon/DynamicCounter.h>
#include <probemon/detail/EventList.h>

#include "FrameWalk.h"
#include "Gil.h"

namespace probemon::python {
namespace {

constexpr const char* kCounterKey = "python.memory.traced_bytes";
constexpr std::size_t kMaxFrames = 64;

MemoryTracerConfig next_config;  // guarded by the GIL

struct MemoryEvent {
  approx_time_t t;
  std::uintptr_t address;
  std::uint64_t size;
  std::uint32_t site;
  std::uint32_t action;  // kAlloc or kFree
};
static_assert(sizeof(MemoryEvent) == 32);
constexpr std::uint32_t kAlloc = 0;
constexpr std::uint32_t kFree = 1;

// A site: up to `frames` (code, offset) pairs, innermost first.
struct SiteKey {
  std::vector<FramePosition> frames;
  bool operator==(const SiteKey& other) const {
    return frames.size() == other.frames.size() &&
           std::equal(frames.begin(), frames.end(), other.frames.begin(),
                      [](const FramePosition& a, const FramePosition& b) {
                        return a.code == b.code && a.lasti == b.lasti;
                      });
  }
};
struct SiteKeyHash {
  std::size_t operator()(const SiteKey& key) const {
    std::size_t h = key.frames.size();
    for (const FramePosition& f : key.frames) {
      h = (h * 31 + reinterpret_cast<std::uintptr_t>(f.code)) * 31 +
          static_cast<std::size_t>(f.lasti);
    }
    return h;
  }
};

class History;
History* g_running = nullptr;  // the history the hooks record into; GIL

struct Live {
  std::uint64_t size;
  std::uint32_t site;
};

// One start() to stop(): the hooks, the events, the sites.
class History {
 public:
  explicit History(MemoryTracerConfig config)
      : config_(config), storage_(config.max_entries), events_(storage_) {}

  void install() {
    storage_.prepare();  // the first chunk now, not in an allocator hook
    calibrateApproximateClock();
    clock_.emplace();
    start_ns_ = getTime();
    for (Domain& d : domains_) {
      d.owner = this;
      PyMem_GetAllocator(d.domain, &d.original);
      PyMemAllocatorEx hook = {&d, &History::hookMalloc, &History::hookCalloc,
                               &History::hookRealloc, &History::hookFree};
      PyMem_SetAllocator(d.domain, &hook);
    }
    g_running = this;
  }

  // Stops recording and restores the allocators if the hooks are still
  // the ones installed. Returns false if a later hook (tracemalloc, ...)
  // wraps one of them: it then stays, passing through without recording,
  // and this History must never be freed.
  bool uninstall() {
    if (g_running != this) return true;
    g_running = nullptr;
    stop_ns_ = getTime();
    converter_ = clock_->makeConverter();
    bool removed = true;
    for (Domain& d : domains_) {
      PyMemAllocatorEx current;
      PyMem_GetAllocator(d.domain, &current);
      if (current.ctx == &d) {
        PyMem_SetAllocator(d.domain, &d.original);
      } else {
        removed = false;
      }
    }
    return removed;
  }

  std::int64_t tracedBytes() const { return traced_bytes_.load(std::memory_order_relaxed); }

  void write(const std::string& path);

  // Drops the references to code objects; GIL held.
  void releaseCodes() {
    for (PyObject* code : code_refs_) Py_DECREF(code);
    code_refs_.clear();
  }

 private:
  struct Domain {
    PyMemAllocatorDomain domain;
    PyMemAllocatorEx original;
    History* owner;  // records only while it is the running history
  };

  static void* hookMalloc(void* ctx, std::size_t size) {
    auto* d = static_cast<Domain*>(ctx);
    void* block = d->original.malloc(d->original.ctx, size);
    if (block != nullptr && g_running == d->owner) d->owner->allocated(block, size);
    return block;
  }
  static void* hookCalloc(void* ctx, std::size_t n, std::size_t size) {
    auto* d = static_cast<Domain*>(ctx);
    void* block = d->original.calloc(d->original.ctx, n, size);
    if (block != nullptr && g_running == d->owner) d->owner->allocated(block, n * size);
    return block;
  }
  static void* hookRealloc(void* ctx, void* old, std::size_t size) {
    auto* d = static_cast<Domain*>(ctx);
    void* block = d->original.realloc(d->original.ctx, old, size);
    if (block != nullptr && g_running == d->owner) {
      if (old != nullptr) d->owner->freed(old);
      d->owner->allocated(block, size);
    }
    return block;
  }
  static void hookFree(void* ctx, void* block) {
    auto* d = static_cast<Domain*>(ctx);
    if (block != nullptr && g_running == d->owner) d->owner->freed(block);
    d->original.free(d->original.ctx, block);
  }

  void allocated(void* block, std::size_t size) {
    const approx_time_t now = getApproximateTime();
    const std::uint32_t site = currentSite();
    const auto address = reinterpret_cast<std::uintptr_t>(block);
    live_[address] = Live{size, site};
    traced_bytes_.store(
        traced_bytes_.load(std::memory_order_relaxed) + static_cast<std::int64_t>(size),
        std::memory_order_relaxed);
    events_.emplace(MemoryEvent{now, address, size, site, kAlloc});
  }

  void freed(void* block) {
    const auto it = live_.find(reinterpret_cast<std::uintptr_t>(block));
    if (it == live_.end()) return;  // allocated before tracing started
    const approx_time_t now = getApproximateTime();
    traced_bytes_.store(
        traced_bytes_.load(std::memory_order_relaxed) - static_cast<std::int64_t>(it->second.size),
        std::memory_order_relaxed);
    events_.emplace(MemoryEvent{now, it->first, it->second.size, it->second.site, kFree});
    live_.erase(it);
  }

  std::uint32_t currentSite() {
    FramePosition frames[kMaxFrames];
    scratch_.frames.assign(frames, frames + currentFrames(frames, config_.frames));
    auto it = sites_.find(scratch_);
    if (it != sites_.end()) return it->second;
    for (const FramePosition& f : scratch_.frames) {
      if (codes_seen_.emplace(f.code, true).second) {
        Py_INCREF(f.code);  // kept for export, where sites become file:line
        code_refs_.push_back(reinterpret_cast<PyObject*>(f.code));
      }
    }
    const auto index = static_cast<std::uint32_t>(site_list_.size());
    site_list_.push_back(scratch_);
    sites_.emplace(scratch_, index);
    return index;
  }

  const MemoryTracerConfig config_;
  Domain domains_[2] = {{PYMEM_DOMAIN_MEM, {}, nullptr}, {PYMEM_DOMAIN_OBJ, {}, nullptr}};
  std::optional<ApproximateClockConverter> clock_;
  std::function<time_t(approx_time_t)> converter_;
  time_t start_ns_ = 0;
  time_t stop_ns_ = 0;
  detail::EventStorage storage_;  // huge-page chunks: first touches cost less
  detail::EventList<MemoryEvent> events_;
  std::unordered_map<std::uintptr_t, Live> live_;
  std::atomic<std::int64_t> traced_bytes_{0};  // read by the DynamicCounter's sampler
  SiteKey scratch_;
  std::unordered_map<SiteKey, std::uint32_t, SiteKeyHash> sites_;
  std::vector<SiteKey> site_list_;
  std::unordered_map<PyCodeObject*, bool> codes_seen_;
  std::vector<PyObject*> code_refs_;  // strong
};

// A JSON string of `text`, through Python's own encoder (json's C
// accelerator): the one JSON escaper this module uses.
std::string jsonString(PyObject* text) {
  static PyObject* encode = [] {
    PyObject* encoder = PyImport_ImportModule("json.encoder");
    PyObject* f =
        encoder == nullptr ? nullptr : PyObject_GetAttrString(encoder, "encode_basestring_ascii");
    Py_XDECREF(encoder);
    return f;
  }();
  PyObject* quoted =
      encode == nullptr || text == nullptr ? nullptr : PyObject_CallOneArg(encode, text);
  std::string out = "\"?\"";
  if (quoted != nullptr && PyUnicode_Check(quoted)) out = PyUnicode_AsUTF8(quoted);
  if (quoted == nullptr) PyErr_Clear();
  Py_XDECREF(quoted);
  return out;
}

void History::write(const std::string& path) {
  const std::string temporary = path + ".tmp" + std::to_string(getpid());
  std::FILE* file = std::fopen(temporary.c_str(), "w");
  if (file == nullptr) {
    throw std::system_error(errno, std::generic_category(),
                            "probemon: cannot write the memory history to '" + path + "'");
  }
  const auto toTime = converter_ ? converter_ : clock_->makeConverter();
  std::string out;
  out +=
      "{\"format\":\"probemon-memory-history\",\"version\":1,\"pid\":" + std::to_string(getpid()) +
      ",\"clock\":\"CLOCK_MONOTONIC\",\"start_ns\":" + std::to_string(start_ns_) +
      ",\"stop_ns\":" + (stop_ns_ != 0 ? std::to_string(stop_ns_) : std::string("null")) +
      ",\"frames\":" + std::to_string(config_.frames) +
      ",\"max_entries\":" + std::to_string(config_.max_entries) +
      ",\"dropped\":{\"over_cap\":" + std::to_string(events_.droppedOverCap()) +
      ",\"no_memory\":" + std::to_string(events_.droppedNoMemory()) +
      "},\"traced_bytes\":" + std::to_string(tracedBytes()) + ",\"sites\":[";
  for (std::size_t i = 0; i < site_list_.size(); ++i) {
    out += i == 0 ? "[" : ",[";
    const auto& frames = site_list_[i].frames;
    for (std::size_t j = 0; j < frames.size(); ++j) {
      PyCodeObject* code = frames[j].code;
      const int line =
          PyCode_Addr2Line(code, frames[j].lasti * static_cast<int>(sizeof(_Py_CODEUNIT)));
      out += (j == 0 ? "{\"function\":" : ",{\"function\":") + jsonString(code->co_qualname) +
             ",\"file\":" + jsonString(code->co_filename) + ",\"line\":" + std::to_string(line) +
             "}";
    }
    out += "]";
  }
  out += "],\"event_fields\":[\"t_ns\",\"action\",\"address\",\"size\",\"site\"],\"events\":[";
  bool first = true;
  const auto flush = [&] {
    if (std::fwrite(out.data(), 1, out.size(), file) != out.size()) {
      const int error = errno;
      std::fclose(file);
      std::remove(temporary.c_str());
      throw std::system_error(error, std::generic_category(),
                              "probemon: cannot write the memory history to '" + path + "'");
    }
    out.clear();
  };
  events_.forEach([&](const MemoryEvent& e) {
    out += first ? "\n[" : ",\n[";
    first = false;
    out += std::to_string(toTime(e.t)) + (e.action == kAlloc ? ",\"alloc\"," : ",\"free\",") +
           std::to_string(e.address) + "," + std::to_string(e.size) + "," + std::to_string(e.site) +
           "]";
    if (out.size() > (1U << 20)) flush();
  });
  out += "]}\n";
  flush();
  if (std::fclose(file) != 0 || std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temporary.c_str());
    throw std::system_error(error, std::generic_category(),
                            "probemon: cannot write the memory history to '" + path + "'");
  }
}

class MemoryTracer final : public python_tracer::PythonMemoryTracerBase {
 public:
  ~MemoryTracer() override {
    if (!Py_IsInitialized() || (_Py_IsFinalizing() && PyGILState_Check() == 0)) return;
    const PyGILState_STATE gil = PyGILState_Ensure();
    stopLocked();
    dropHistory();
    PyGILState_Release(gil);
  }

  void start() override {
    const PyGILState_STATE gil = PyGILState_Ensure();
    try {
      if (counter_ == nullptr) {  // not running
        dropHistory();
        history_ = std::make_unique<History>(next_config);
        History* history = history_.get();
        releasingGil([&] {
          counter_ = std::make_unique<DynamicCounter>(kCounterKey,
                                                      [history] { return history->tracedBytes(); });
        });
        history_->install();
      }
    } catch (...) {
      PyGILState_Release(gil);
      throw;
    }
    PyGILState_Release(gil);
  }

  void stop() override {
    const PyGILState_STATE gil = PyGILState_Ensure();
    stopLocked();
    PyGILState_Release(gil);
  }

  void export_memory_history(const std::string& path) override {
    const PyGILState_STATE gil = PyGILState_Ensure();
    try {
      if (!history_) throw std::logic_error("probemon.memory: start() the memory tracer first");
      history_->write(path);
    } catch (...) {
      PyGILState_Release(gil);
      throw;
    }
    PyGILState_Release(gil);
  }

 private:
  void stopLocked() {
    if (counter_ == nullptr) return;
    hooks_stuck_ = !history_->uninstall();
    std::unique_ptr<DynamicCounter> counter = std::move(counter_);
    releasingGil([&] { counter.reset(); });
  }

  // GIL held.
  void dropHistory() {
    if (!history_) return;
    history_->releaseCodes();
    if (hooks_stuck_) {
      // Still in the allocator chain: never freed.
      (void)history_.release();  // NOLINT(bugprone-unused-return-value)
    }
    history_.reset();
    hooks_stuck_ = false;
  }

  std::unique_ptr<History> history_;
  bool hooks_stuck_ = false;                 // history_'s hooks could not be removed
  std::unique_ptr<DynamicCounter> counter_;  // non-null while running
};

}  // namespace

std::unique_ptr<python_tracer::PythonMemoryTracerBase> makeMemoryTracer() {
  return std::make_unique<MemoryTracer>();
}

void setNextMemoryTracerConfig(MemoryTracerConfig config) { next_config = config; }

}  // namespace probemon::python
