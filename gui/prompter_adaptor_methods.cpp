// The generated adaptor (qdbusxml2cpp, from data/org.airlock.impl.Prompter.xml)
// leaves methods with more than one out argument for us to write: these
// forward to the PrompterService that owns it. Their signatures come from
// the generated header, so a change in the XML breaks the build here.
#include "prompter_adaptor.h"
#include "prompter_service.h"

PrompterAdaptor::PrompterAdaptor(QObject* parent) : QDBusAbstractAdaptor(parent) { setAutoRelaySignals(true); }

PrompterAdaptor::~PrompterAdaptor() = default;

void PrompterAdaptor::Close(const QString& id) { static_cast<airlock::gui::PrompterService*>(parent())->Close(id); }

uint PrompterAdaptor::Prompt(const QString& id, const QVariantMap& details, QVariantMap& results) {
  return static_cast<airlock::gui::PrompterService*>(parent())->Prompt(id, details, results);
}
