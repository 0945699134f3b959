#include "ui/ui_resources.h"

// Q_INIT_RESOURCE must be used outside any namespace.
static void initLoraLabResources() { Q_INIT_RESOURCE(loralab); }

namespace loralab::ui {

void initResources()
{
    static const bool done = (initLoraLabResources(), true);
    (void)done;
}

QIcon appIcon()
{
    initResources();
    QIcon icon;
    for (int size : {16, 24, 32, 48, 64, 128, 256})
        icon.addFile(QStringLiteral(":/icons/loralab-%1.png").arg(size), QSize(size, size));
    return icon;
}

} // namespace loralab::ui
