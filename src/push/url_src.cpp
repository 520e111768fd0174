// Boost.URL compiled into this module (header-only use: Debian 12 ships no libboost-url library).
#include <boost/url/src.hpp>
