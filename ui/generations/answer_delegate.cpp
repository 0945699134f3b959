#include "ui/generations/answer_delegate.h"

#include <QAbstractItemView>
#include <QApplication>
#include <QHeaderView>
#include <QPainter>
#include <QTableView>
#include <QTextDocument>

namespace loralab::ui {

namespace {
void layout(QTextDocument& doc, const QStyleOptionViewItem& option, const QString& html, int width)
{
    doc.setDefaultFont(option.font);
    doc.setHtml(html);
    doc.setTextWidth(std::max(40, width - 8));
}

int columnWidth(const QStyleOptionViewItem& option, const QModelIndex& index)
{
    if (const auto* view = qobject_cast<const QTableView*>(option.widget)) return view->columnWidth(index.column());
    return option.rect.width();
}
} // namespace

void AnswerDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    const QString html = index.data(kHtmlRole).toString();
    if (html.isEmpty()) {
        QStyledItemDelegate::paint(painter, option, index);
        return;
    }
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    opt.text.clear();
    const QStyle* style = opt.widget ? opt.widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, opt.widget);
    QTextDocument doc;
    layout(doc, option, html, option.rect.width());
    painter->save();
    painter->translate(option.rect.topLeft() + QPoint(4, 2));
    doc.drawContents(painter, QRectF(0, 0, option.rect.width() - 4, option.rect.height() - 2));
    painter->restore();
}

QSize AnswerDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    const QString html = index.data(kHtmlRole).toString();
    if (html.isEmpty()) return QStyledItemDelegate::sizeHint(option, index);
    QTextDocument doc;
    layout(doc, option, html, columnWidth(option, index));
    return QSize(static_cast<int>(doc.idealWidth()) + 8, static_cast<int>(doc.size().height()) + 4);
}

} // namespace loralab::ui
