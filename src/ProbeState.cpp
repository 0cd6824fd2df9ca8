#include <probemon/detail/ProbeState.h>

#include "probes.h"

namespace probemon::detail {

bool probeAttached(Probe probe) noexcept {
  switch (probe) {
    case Probe::WaitStart:
      return PROBEMON_PROBE_ENABLED(wait__start);
    case Probe::WaitDone:
      return PROBEMON_PROBE_ENABLED(wait__done);
    case Probe::CounterRegister:
      return PROBEMON_PROBE_ENABLED(counter__register);
    case Probe::CounterUnregister:
      return PROBEMON_PROBE_ENABLED(counter__unregister);
    case Probe::DynamicValue:
      return PROBEMON_PROBE_ENABLED(dynamic__value);
  }
  return false;
}

}  // namespace probemon::detail
