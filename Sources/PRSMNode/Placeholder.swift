import PRSMCore
import Hummingbird
import Prometheus
import TOMLKit
import Metrics
import Logging
