#include "Views.h"
namespace probemon::tool { int runCounters(const Options&) { return 1; } }
