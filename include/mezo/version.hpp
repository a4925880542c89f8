// libmezo version. CMake parses the three macros below to set the project
// version, so keep them on lines of their own in this exact form.
#pragma once

#define MEZO_VERSION_MAJOR 0
#define MEZO_VERSION_MINOR 2
#define MEZO_VERSION_PATCH 0

#define MEZO_VERSION_STRINGIFY_(x) #x
#define MEZO_VERSION_STRINGIFY(x) MEZO_VERSION_STRINGIFY_(x)
#define MEZO_VERSION_STRING                  \
  MEZO_VERSION_STRINGIFY(MEZO_VERSION_MAJOR) \
  "." MEZO_VERSION_STRINGIFY(MEZO_VERSION_MINOR) "." MEZO_VERSION_STRINGIFY(MEZO_VERSION_PATCH)

// One integer for compile-time comparisons: 10203 is 1.2.3.
#define MEZO_VERSION (MEZO_VERSION_MAJOR * 10000 + MEZO_VERSION_MINOR * 100 + MEZO_VERSION_PATCH)
