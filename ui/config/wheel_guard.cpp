#include "ui/config/wheel_guard.h"

#include <QAbstractSpinBox>
#include <QComboBox>
#include <QEvent>
#include <QObject>
#include <QWidget>

namespace loralab::ui {

namespace {

class WheelGuard : public QObject {
public:
    using QObject::QObject;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        if (event->type() != QEvent::Wheel) return false;
        const auto* widget = qobject_cast<QWidget*>(watched);
        if (!widget || widget->hasFocus()) return false;
        // Ignored and filtered: QApplication hands the event to the parents,
        // up to the scroll area.
        event->ignore();
        return true;
    }
};

} // namespace

void guardWheel(QWidget* root)
{
    auto* guard = new WheelGuard(root);
    const auto protect = [guard](QWidget* w) {
        w->setFocusPolicy(Qt::StrongFocus);
        w->installEventFilter(guard);
    };
    for (QAbstractSpinBox* w : root->findChildren<QAbstractSpinBox*>()) protect(w);
    for (QComboBox* w : root->findChildren<QComboBox*>()) protect(w);
}

} // namespace loralab::ui
