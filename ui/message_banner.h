// A dismissable strip above the tabs for news that must not block the
// window: a run that failed (bad file, NaN loss, out of memory), finished,
// or needs attention. Newer messages replace older ones.
#pragma once

#include <QFrame>

#include <functional>

class QLabel;
class QPushButton;

namespace loralab::ui {

class MessageBanner : public QFrame {
    Q_OBJECT
public:
    enum class Level { Info, Success, Warning, Error };

    explicit MessageBanner(QWidget* parent = nullptr);

    // `actionText` adds a button that runs `action` (and dismisses the banner).
    void showMessage(Level level, const QString& text, const QString& actionText = {}, std::function<void()> action = {});
    QString text() const;
    Level level() const { return m_level; }

private:
    QLabel* m_icon;
    QLabel* m_text;
    QPushButton* m_action;
    std::function<void()> m_callback;
    Level m_level = Level::Info;
};

} // namespace loralab::ui
