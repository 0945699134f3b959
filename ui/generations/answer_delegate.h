// Draws a table cell as rich text when it carries HTML (kHtmlRole), so that
// the Generations table can mark answers against their targets; other cells
// draw as usual. Rows grow to fit the wrapped text.
#pragma once

#include <QStyledItemDelegate>

namespace loralab::ui {

class AnswerDelegate : public QStyledItemDelegate {
    Q_OBJECT
public:
    static constexpr int kHtmlRole = Qt::UserRole + 7;

    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

} // namespace loralab::ui
