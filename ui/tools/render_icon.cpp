// Renders resources/icons/loralab.svg to the PNG sizes the window and the
// desktop entry use. Qt SVG is not among LoRA Lab's dependencies, so this
// reads the small SVG subset the icon is drawn with (rect with rx, circle,
// path with M/L/C, fill, stroke, stroke-width, stroke-linecap) and paints it
// with QPainter.
#include <QColor>
#include <QDir>
#include <QFile>
#include <QGuiApplication>
#include <QImage>
#include <QPainter>
#include <QPainterPath>
#include <QRegularExpression>
#include <QXmlStreamReader>

#include <cstdio>

namespace {

QPainterPath parsePath(const QString& d)
{
    QPainterPath path;
    static const QRegularExpression token(QStringLiteral("[MLCZmlcz]|-?[0-9]*\\.?[0-9]+"));
    QStringList t;
    for (auto it = token.globalMatch(d); it.hasNext();) t << it.next().captured();
    QChar command;
    for (int i = 0; i < t.size();) {
        if (t[i][0].isLetter()) command = t[i++][0].toUpper();
        const auto num = [&] { return t.value(i++).toDouble(); };
        if (command == 'M') {
            const double x = num(), y = num();
            path.moveTo(x, y);
            command = 'L';
        } else if (command == 'L') {
            const double x = num(), y = num();
            path.lineTo(x, y);
        } else if (command == 'C') {
            const double x1 = num(), y1 = num(), x2 = num(), y2 = num(), x = num(), y = num();
            path.cubicTo(x1, y1, x2, y2, x, y);
        } else if (command == 'Z') {
            path.closeSubpath();
        } else {
            ++i;
        }
    }
    return path;
}

void paintSvg(const QByteArray& svg, QPainter& p, double scale)
{
    p.scale(scale, scale);
    QXmlStreamReader xml(svg);
    while (!xml.atEnd()) {
        if (xml.readNext() != QXmlStreamReader::StartElement) continue;
        const auto a = xml.attributes();
        const auto num = [&](const char* name) { return a.value(QLatin1String(name)).toDouble(); };
        const QString fill = a.value(QStringLiteral("fill")).toString();
        const QString stroke = a.value(QStringLiteral("stroke")).toString();
        p.setBrush(fill.isEmpty() || fill == QLatin1String("none") ? QBrush(Qt::NoBrush) : QBrush(QColor(fill)));
        if (stroke.isEmpty() || stroke == QLatin1String("none")) {
            p.setPen(Qt::NoPen);
        } else {
            QPen pen(QColor(stroke), num("stroke-width"));
            pen.setCapStyle(a.value(QStringLiteral("stroke-linecap")) == QLatin1String("round") ? Qt::RoundCap : Qt::FlatCap);
            p.setPen(pen);
        }
        const QStringView name = xml.name();
        if (name == QLatin1String("rect"))
            p.drawRoundedRect(QRectF(num("x"), num("y"), num("width"), num("height")), num("rx"), num("rx"));
        else if (name == QLatin1String("circle"))
            p.drawEllipse(QPointF(num("cx"), num("cy")), num("r"), num("r"));
        else if (name == QLatin1String("path"))
            p.drawPath(parsePath(a.value(QStringLiteral("d")).toString()));
    }
}

} // namespace

int main(int argc, char* argv[])
{
    // Painting into images needs no display.
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    if (argc != 2) {
        std::fprintf(stderr, "usage: loralab_render_icon <resources/icons folder>\n");
        return 2;
    }
    const QDir dir(QString::fromLocal8Bit(argv[1]));
    QFile file(dir.filePath(QStringLiteral("loralab.svg")));
    if (!file.open(QIODevice::ReadOnly)) {
        std::fprintf(stderr, "cannot read %s\n", qPrintable(file.fileName()));
        return 1;
    }
    const QByteArray svg = file.readAll();
    constexpr double kViewBox = 256.0;
    for (int size : {16, 24, 32, 48, 64, 128, 256}) {
        QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
        image.fill(Qt::transparent);
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        paintSvg(svg, painter, size / kViewBox);
        painter.end();
        const QString out = dir.filePath(QStringLiteral("loralab-%1.png").arg(size));
        if (!image.save(out)) {
            std::fprintf(stderr, "cannot write %s\n", qPrintable(out));
            return 1;
        }
    }
    return 0;
}
