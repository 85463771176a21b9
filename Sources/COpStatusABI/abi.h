#ifndef OPSTATUS_ABI_H
#define OPSTATUS_ABI_H

#include "../../include/opstatus.h"

/*
 * The public header keeps opstatus_client opaque. Completing it here, for
 * Swift only, makes Swift import "opstatus_client *" as a typed pointer
 * instead of OpaquePointer, so the header that the Swift compiler emits
 * for the exported functions spells the same types as opstatus.h, and a
 * test can compile both in one translation unit to prove they agree. The
 * library never reads or writes this member: a client handle points at a
 * Swift object.
 */
struct opstatus_client {
  char never_used;
};

#endif
