"""`manage.py kubeconfig --cluster demo`: print one cluster's kubeconfig (as `kind get
kubeconfig` does), for `kubectl --kubeconfig` or KUBECONFIG."""

from django.core.management.base import BaseCommand, CommandError

from cluster import kubeconfig
from cluster.models import Cluster


class Command(BaseCommand):
    help = "Print the kubeconfig of one cluster: HTTPS server, kubelab's CA and its token."

    def add_arguments(self, parser):
        parser.add_argument("--cluster", default="demo", help="the cluster's name (demo)")
        parser.add_argument("--namespace", default="default",
                            help="the context's namespace (default)")

    def handle(self, *args, cluster, namespace, **options):
        found = Cluster.objects.filter(name=cluster).first()
        if found is None:
            names = ", ".join(Cluster.objects.values_list("name", flat=True)) or "none yet"
            raise CommandError(f'no cluster named "{cluster}" (clusters: {names})')
        self.stdout.write(kubeconfig.render(found, namespace), ending="")
