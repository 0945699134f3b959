#include "ui/metatypes.h"

namespace loralab::ui {

void registerMetaTypes()
{
    // Registered once so that queued connections can copy these by name.
    static const bool done = [] {
        qRegisterMetaType<loralab::RunConfig>();
        qRegisterMetaType<loralab::StepRecord>();
        qRegisterMetaType<loralab::EvalRecord>();
        qRegisterMetaType<loralab::SampleRecord>();
        qRegisterMetaType<loralab::RunRecords>();
        qRegisterMetaType<loralab::GenerationOutput>();
        qRegisterMetaType<loralab::ExperimentRun>();
        qRegisterMetaType<loralab::Experiment>();
        qRegisterMetaType<std::vector<loralab::CatalogEntry>>();
        qRegisterMetaType<std::vector<loralab::SweepAxis>>();
        qRegisterMetaType<loralab::ui::RunRequest>();
        return true;
    }();
    (void)done;
}

} // namespace loralab::ui
