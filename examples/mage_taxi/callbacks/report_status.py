if 'callback' not in globals():
    from mage_ai.data_preparation.decorators import callback


@callback('success')
def success_callback(parent_block_data, **kwargs):
    print(f"cleaned {len(parent_block_data)} trips for {kwargs.get('pipeline_uuid')}")


@callback('failure')
def failure_callback(parent_block_data, **kwargs):
    print(f"cleaning failed: {kwargs.get('__error')}")
