// WebkitLocalStorage: origins named by the children of the WebKit folder ("https_host_0" -> URL).
#include <gtest/gtest.h>

#include "support/fs_dump.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

TEST(WebkitLocalStorage, OriginsFromFolderNames) {
  expect_webkit_origins("WebkitLocalStorage", "webkit_local_storage",
                        "private/var/mobile/Containers/Data/Application/APP-1/Library/WebKit/WebsiteData/LocalStorage", 2u);
}

}  // namespace
