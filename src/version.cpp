// mezo::version() (mezo/config.hpp): the version this library was compiled
// as, for programs to compare with the headers they were compiled against.
#include "mezo/version.hpp"

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

int version() noexcept { return MEZO_VERSION; }

MEZO_END_NAMESPACE
