// WebkitSafariViewService: origins named by the children of the WebKit folder ("https_host_0" -> URL).
#include <gtest/gtest.h>

#include "support/fs_dump.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

TEST(WebkitSafariViewService, OriginsFromFolderNames) {
  expect_webkit_origins("WebkitSafariViewService", "webkit_safari_view_service",
                        "private/var/mobile/Containers/Data/Application/APP-1/SystemData/com.apple.SafariViewService/Library/WebKit/WebsiteData", 0u);
}

}  // namespace
