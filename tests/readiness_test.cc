#include <gtest/gtest.h>
#include "ha/readiness.h"
