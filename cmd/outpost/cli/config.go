package cli

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/outpost-platform/outpost/appliance/config"
)

// configFlags binds every config.Config key as a flag of cmd and knows how to
// merge the YAML file under them: defaults < file < flags set on the
// command line.
type configFlags struct {
	path   string
	values config.Config
}

func addConfigFlags(cmd *cobra.Command) *configFlags {
	cf := &configFlags{values: config.Default()}
	fs := cmd.Flags()
	fs.StringVarP(&cf.path, "config", "c", config.DefaultFile, "YAML configuration file whose keys are these flags' names")
	v := reflect.ValueOf(&cf.values).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name, usage := config.Key(t.Field(i)), t.Field(i).Tag.Get("usage")
		switch p := v.Field(i).Addr().Interface().(type) {
		case *string:
			fs.StringVar(p, name, *p, usage)
		case *int:
			fs.IntVar(p, name, *p, usage)
		case *[]string:
			fs.StringArrayVar(p, name, *p, usage)
		case *config.Duration:
			fs.Var(p, name, usage)
		default:
			panic(fmt.Sprintf("config key %s has unsupported type %T", name, p))
		}
	}
	return cf
}

// load returns the validated configuration.
func (cf *configFlags) load(fs *pflag.FlagSet) (config.Config, error) {
	cfg, err := config.Load(cf.path, fs.Changed("config"))
	if err != nil {
		return cfg, err
	}
	var changed []string
	fs.Visit(func(f *pflag.Flag) { changed = append(changed, f.Name) })
	cfg.Merge(&cf.values, changed)
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	return cfg, nil
}
