// A worker thread for one-shot jobs that must not block the window: dataset
// previews, token previews, reading run directories. A job runs on the
// worker object's thread (a queued call); its result comes back as a queued
// call on the GUI thread, and is dropped if `context` is gone by then.
// Jobs run one after another, in the order they were posted.
#pragma once

#include "ui/metatypes.h"

#include <QCoreApplication>
#include <QObject>
#include <QPointer>
#include <QThread>

#include <exception>
#include <functional>
#include <memory>
#include <new>

namespace loralab::ui {

class TaskRunner : public QObject {
    Q_OBJECT
public:
    explicit TaskRunner(const QString& threadName, QObject* parent = nullptr);
    ~TaskRunner() override; // waits for the job in progress

    template <typename Result>
    void post(std::function<Result()> job, QObject* context, std::function<void(Result)> done,
              std::function<void(const QString&)> failed)
    {
        QPointer<QObject> target(context);
        auto work = [job = std::move(job), target, done = std::move(done), failed = std::move(failed)]() {
            // Results travel by shared pointer: the lambda posted back must be copyable.
            auto result = std::make_shared<Result>();
            QString error;
            try {
                *result = job();
            } catch (const std::bad_alloc&) {
                error = QObject::tr("out of memory");
            } catch (const std::exception& e) {
                error = QString::fromUtf8(e.what());
            }
            // Delivered through the application object (GUI thread), where
            // `target` can be checked without racing its destruction.
            QMetaObject::invokeMethod(
                QCoreApplication::instance(),
                [target, result, error, done, failed]() {
                    if (!target) return;
                    if (error.isEmpty())
                        done(std::move(*result));
                    else if (failed)
                        failed(error);
                },
                Qt::QueuedConnection);
        };
        QMetaObject::invokeMethod(m_worker, std::move(work), Qt::QueuedConnection);
    }

private:
    QThread m_thread;
    QObject* m_worker = nullptr; // lives in m_thread
};

} // namespace loralab::ui
