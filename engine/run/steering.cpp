// Steering a run; see steering.h.
#include "engine/run/steering.h"

#include "engine/dist/collective.h"

#include <nlohmann/json.hpp>

namespace loralab {
namespace {

// The window's changes, as this process's RunControl holds them.
void takeLocalChanges(RunControl& control, RunSettings& settings)
{
    if (const auto patience = control.patience.exchange(-1); patience >= 0) settings.patience = patience;
    if (const auto interval = control.evalInterval.exchange(-1); interval > 0) settings.evalInterval = interval;
    settings.earlyStopping = control.earlyStopping.load();
}

class LocalSteering final : public RunSteering {
public:
    explicit LocalSteering(RunControl& control) : m_control(control) {}

    SteeringRequests poll(RunSettings& settings) override
    {
        takeLocalChanges(m_control, settings);
        return {m_control.cancel.load(), m_control.stopKeepBest.load(), m_control.paused.load()};
    }
    std::chrono::milliseconds pollInterval() const override { return std::chrono::milliseconds(50); }

private:
    RunControl& m_control;
};

class GroupSteering final : public RunSteering {
public:
    GroupSteering(RunControl& control, Collective& group) : m_control(control), m_group(group) {}

    // A cancel, stop or pause asked of any one process holds for all; the
    // settings of rank 0 (whose window changes them) hold everywhere.
    SteeringRequests poll(RunSettings& settings) override
    {
        takeLocalChanges(m_control, settings);
        const nlohmann::json mine = {{"cancel", m_control.cancel.load()},
                                     {"stop", m_control.stopKeepBest.load()},
                                     {"pause", m_control.paused.load()},
                                     {"patience", settings.patience},
                                     {"eval_interval", settings.evalInterval},
                                     {"early_stopping", settings.earlyStopping}};
        const std::vector<std::string> all = m_group.gatherText(mine.dump());
        SteeringRequests agreed;
        for (const std::string& text : all) {
            const auto rank = nlohmann::json::parse(text);
            agreed.cancel = agreed.cancel || rank.at("cancel").get<bool>();
            agreed.stop = agreed.stop || rank.at("stop").get<bool>();
            agreed.pause = agreed.pause || rank.at("pause").get<bool>();
        }
        if (m_group.rank() != 0) {
            const auto first = nlohmann::json::parse(all.at(0));
            settings.patience = first.at("patience").get<std::int64_t>();
            settings.evalInterval = first.at("eval_interval").get<std::int64_t>();
            settings.earlyStopping = first.at("early_stopping").get<bool>();
            m_control.earlyStopping.store(settings.earlyStopping);
        }
        return agreed;
    }
    std::chrono::milliseconds pollInterval() const override { return std::chrono::milliseconds(200); }

private:
    RunControl& m_control;
    Collective& m_group;
};

} // namespace

std::unique_ptr<RunSteering> localSteering(RunControl& control) { return std::make_unique<LocalSteering>(control); }

std::unique_ptr<RunSteering> groupSteering(RunControl& control, Collective& group)
{
    return std::make_unique<GroupSteering>(control, group);
}

} // namespace loralab
