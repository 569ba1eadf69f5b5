# The seed's "Python Plugin Example" (seeds/mlos-core.md), as written. The seed leaves
# `output_data` to the reader; here it is the request echoed back, so the example runs.
import mlos_smi

class MyMLPlugin(mlos_smi.Plugin):
    def initialize(self, config):
        # Initialize your Python ML framework
        return mlos_smi.SUCCESS
    
    def register_model(self, metadata):
        # Register ML model
        return mlos_smi.SUCCESS
    
    def inference(self, handle, input_data):
        # Run inference
        output_data = input_data
        return output_data, mlos_smi.SUCCESS

# Register plugin
mlos_smi.register_plugin(MyMLPlugin())
