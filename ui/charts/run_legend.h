// The runs on the charts, one check box per run in the run's colour: the
// legend that says which colour is which run, and the switch that hides a
// run on every chart at once. Rows wrap, so a sweep of many runs fits.
#pragma once

#include <QColor>
#include <QList>
#include <QStringList>
#include <QWidget>

class QCheckBox;

namespace loralab::ui {

class FlowLayout;

class RunLegend : public QWidget {
    Q_OBJECT
public:
    explicit RunLegend(QWidget* parent = nullptr);

    void setRuns(const QStringList& labels, const QList<QColor>& colors);
    void setLabel(int run, const QString& label);
    bool isRunVisible(int run) const;
    void setRunVisible(int run, bool visible);
    int count() const { return static_cast<int>(m_boxes.size()); }

signals:
    void visibilityChanged(int run, bool visible);

private:
    FlowLayout* m_layout;
    QList<QCheckBox*> m_boxes;
};

} // namespace loralab::ui
