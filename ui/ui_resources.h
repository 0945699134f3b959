// The window's compiled-in resources (icons). loralab_ui is a static
// library, so its resources must be registered explicitly before use.
#pragma once

#include <QIcon>

namespace loralab::ui {

void initResources();
QIcon appIcon();

} // namespace loralab::ui
