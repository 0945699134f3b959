// Tokens per example (after truncation to max_len) as a histogram, so that
// a max_len that cuts most examples, or wastes most of each batch, shows.
#pragma once

#include <QChartView>

#include <cstdint>
#include <vector>

namespace loralab::ui {

class LengthHistogram : public QChartView {
    Q_OBJECT
public:
    explicit LengthHistogram(QWidget* parent = nullptr);
    void setLengths(const std::vector<std::int64_t>& lengths, std::int64_t maxLen);
    int binCount() const { return m_bins; }

private:
    int m_bins = 0;
};

} // namespace loralab::ui
