#ifndef OPSTATUS_CJANSSON_SHIM_H
#define OPSTATUS_CJANSSON_SHIM_H
#include <jansson.h>
#endif
