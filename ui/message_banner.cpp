#include "ui/message_banner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QToolButton>

namespace loralab::ui {

MessageBanner::MessageBanner(QWidget* parent) : QFrame(parent)
{
    setObjectName(QStringLiteral("messageBanner"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 4, 4);
    m_icon = new QLabel;
    layout->addWidget(m_icon);
    m_text = new QLabel;
    m_text->setObjectName(QStringLiteral("bannerText"));
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_text, 1);
    m_action = new QPushButton;
    m_action->hide();
    layout->addWidget(m_action);
    auto* close = new QToolButton;
    close->setAutoRaise(true);
    close->setText(QStringLiteral("✕"));
    close->setToolTip(tr("Dismiss"));
    layout->addWidget(close);
    connect(close, &QToolButton::clicked, this, &QWidget::hide);
    connect(m_action, &QPushButton::clicked, this, [this] {
        hide();
        if (m_callback) m_callback();
    });
    hide();
}

void MessageBanner::showMessage(Level level, const QString& text, const QString& actionText, std::function<void()> action)
{
    m_level = level;
    QString background, border;
    QStyle::StandardPixmap icon = QStyle::SP_MessageBoxInformation;
    switch (level) {
    case Level::Info: background = "#e3f2fd"; border = "#90caf9"; break;
    case Level::Success: background = "#e8f5e9"; border = "#a5d6a7"; icon = QStyle::SP_DialogApplyButton; break;
    case Level::Warning: background = "#fff3e0"; border = "#ffcc80"; icon = QStyle::SP_MessageBoxWarning; break;
    case Level::Error: background = "#ffebee"; border = "#ef9a9a"; icon = QStyle::SP_MessageBoxCritical; break;
    }
    setStyleSheet(QStringLiteral("#messageBanner { background: %1; border: 1px solid %2; border-radius: 3px; } "
                                 "#messageBanner QLabel { color: #212121; }")
                      .arg(background, border));
    m_icon->setPixmap(style()->standardIcon(icon).pixmap(20, 20));
    m_text->setText(text);
    m_callback = std::move(action);
    m_action->setText(actionText);
    m_action->setVisible(!actionText.isEmpty());
    show();
}

QString MessageBanner::text() const { return m_text->text(); }

} // namespace loralab::ui
