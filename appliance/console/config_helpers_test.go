package console

import (
	"time"

	"github.com/outpost-platform/outpost/appliance/config"
)

func configDuration(d time.Duration) config.Duration { return config.Duration(d) }
