// SPDX-License-Identifier: BSD-3-Clause
// probemon/detail/Export.h: PROBEMON_API marks what libprobemon.so exports.
//
// The library is built with hidden visibility, so its internals are called
// directly rather than through the PLT and cannot be interposed; only the
// public API carries PROBEMON_API.
#pragma once

#define PROBEMON_API __attribute__((visibility("default")))
