#include "ui/controllers/task_runner.h"

namespace loralab::ui {

TaskRunner::TaskRunner(const QString& threadName, QObject* parent) : QObject(parent)
{
    m_thread.setObjectName(threadName);
    m_worker = new QObject;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.start();
}

TaskRunner::~TaskRunner()
{
    m_thread.quit();
    m_thread.wait();
}

} // namespace loralab::ui
