#include <gtest/gtest.h>
#include "exporter/options.h"
