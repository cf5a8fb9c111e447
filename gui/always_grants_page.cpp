#include "always_grants_page.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "format.h"
#include "i18n.h"

namespace airlock::gui {

AlwaysGrantsPage::AlwaysGrantsPage(ManagerClient* manager, QWidget* parent) : QWidget(parent), manager_(manager) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(10, 10, 10, 10);
  auto* intro = new QLabel(_("Every new session of these profiles gets these grants without asking. Forget one to be "
                             "asked again."),
                           this);
  intro->setWordWrap(true);
  intro->setTextFormat(Qt::PlainText);
  layout->addWidget(intro);
  list_ = new QTreeWidget(this);
  list_->setObjectName(QStringLiteral("always-list"));
  list_->setHeaderLabels({_("Profile"), _("Kind"), _("Resource"), _("Access"), _("Workspace"), _("Since")});
  list_->setRootIsDecorated(false);
  list_->setAlternatingRowColors(true);
  list_->setAccessibleName(_("Always-grants"));
  list_->setTextElideMode(Qt::ElideMiddle);
  list_->setFrameShape(QFrame::NoFrame);
  list_->header()->setStretchLastSection(false);
  list_->header()->setSectionResizeMode(2, QHeaderView::Stretch);
  layout->addWidget(list_, 1);
  auto* buttons = new QHBoxLayout;
  buttons->addStretch(1);
  forget_ = new QPushButton(_("Forget"), this);
  forget_->setObjectName(QStringLiteral("forget"));
  forget_->setEnabled(false);
  forget_->setAccessibleName(_("Forget the selected always-grant"));
  buttons->addWidget(forget_);
  layout->addLayout(buttons);
  connect(list_, &QTreeWidget::itemSelectionChanged, this, [this] { forget_->setEnabled(!list_->selectedItems().isEmpty()); });
  connect(forget_, &QPushButton::clicked, this, &AlwaysGrantsPage::forget_selected);
}

void AlwaysGrantsPage::refresh() {
  QString error;
  Rows rows = manager_->list_always(&error);
  list_->clear();
  for (const QVariantMap& row : rows) {
    auto* item = new QTreeWidgetItem(list_);
    item->setText(0, row.value(QStringLiteral("profile")).toString());
    item->setText(1, kind_name(row.value(QStringLiteral("kind")).toString()));
    item->setText(2, row.value(QStringLiteral("resource")).toString());
    item->setText(3, access_name(row.value(QStringLiteral("access")).toString()));
    item->setText(4, row.value(QStringLiteral("workspace")).toString());
    item->setText(5, format_time(row.value(QStringLiteral("created")).toLongLong()));
    item->setData(0, Qt::UserRole, row.value(QStringLiteral("id")).toLongLong());
  }
  for (int column = 0; column < list_->columnCount(); ++column)
    if (column != 2) list_->resizeColumnToContents(column);
}

void AlwaysGrantsPage::forget_selected() {
  auto items = list_->selectedItems();
  if (items.isEmpty()) return;
  QString error;
  if (!manager_->forget(items.first()->data(0, Qt::UserRole).toLongLong(), &error))
    QMessageBox::warning(this, _("Cannot forget the grant"), error);
  refresh();
}

}  // namespace airlock::gui
