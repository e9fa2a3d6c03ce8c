"""check_tls_mail: a Nagios/Icinga plugin that probes one mail service's TLS the way real clients do."""

__version__ = "0.1.0"
